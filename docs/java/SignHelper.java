// kaguan CRM signature helper (docs/crm-integration.md). Only java.security and java.util: paste it
// into your CRM. Java 11+. Run `java SignHelper.java <private-key.pem>` to print the test vectors.
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public final class SignHelper {

    /** The parameter that carries the signature (kaguan also accepts "signature"). */
    public static final String SIGNATURE_PARAM_KEY = "sign";

    private SignHelper() {
    }

    /**
     * The string to sign: every parameter except sign/signature and empty values, sorted by key in
     * byte order (UTF-8, unsigned), joined as key=value with '&'. Values are not URL-encoded.
     */
    public static String canonicalString(Map<String, String> params) {
        List<String> keys = new ArrayList<>();
        for (Map.Entry<String, String> entry : params.entrySet()) {
            String key = entry.getKey();
            String value = entry.getValue();
            if (key.equals("sign") || key.equals("signature") || value == null || value.isEmpty()) {
                continue;
            }
            keys.add(key);
        }
        keys.sort((a, b) -> Arrays.compareUnsigned(
                a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8)));
        StringBuilder out = new StringBuilder();
        for (String key : keys) {
            if (out.length() > 0) {
                out.append('&');
            }
            out.append(key).append('=').append(params.get(key));
        }
        return out.toString();
    }

    /** SHA256withRSA over the UTF-8 bytes of canonicalString(params), base64. Put it in "sign". */
    public static String signStringParam(Map<String, String> params, String privateKeyBase64)
            throws Exception {
        byte[] der = Base64.getDecoder().decode(stripPem(privateKeyBase64));
        PrivateKey key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
        Signature signer = Signature.getInstance("SHA256withRSA");
        signer.initSign(key);
        signer.update(canonicalString(params).getBytes(StandardCharsets.UTF_8));
        return Base64.getEncoder().encodeToString(signer.sign());
    }

    /** Verifies the "sign" (or "signature") parameter with an RSA public key (base64 X.509/SPKI). */
    public static boolean verifyStringParam(Map<String, String> params, String publicKeyBase64)
            throws Exception {
        String signature = params.get("sign");
        if (signature == null || signature.isEmpty()) {
            signature = params.get("signature");
        }
        if (signature == null || signature.isEmpty()) {
            return false;
        }
        byte[] der = Base64.getDecoder().decode(stripPem(publicKeyBase64));
        PublicKey key = KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(der));
        Signature verifier = Signature.getInstance("SHA256withRSA");
        verifier.initVerify(key);
        verifier.update(canonicalString(params).getBytes(StandardCharsets.UTF_8));
        try {
            return verifier.verify(Base64.getDecoder().decode(signature));
        } catch (IllegalArgumentException | java.security.SignatureException e) {
            return false;
        }
    }

    /** Accepts bare base64 or a PEM (text outside the BEGIN/END lines is ignored). */
    private static String stripPem(String key) {
        int begin = key.indexOf("-----BEGIN");
        if (begin >= 0) {
            int bodyStart = key.indexOf('\n', begin);
            int end = key.indexOf("-----END", bodyStart);
            key = key.substring(bodyStart + 1, end);
        }
        return key.replaceAll("\\s", "");
    }

    private static Map<String, String> params(String... keyValues) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put(keyValues[i], keyValues[i + 1]);
        }
        return map;
    }

    /** Prints "id TAB canonical TAB sign" for each test vector of docs/crm-integration.md. */
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: java SignHelper.java <crm-test-private.pem>");
            System.exit(2);
        }
        String privateKey = new String(Files.readAllBytes(Paths.get(args[0])), StandardCharsets.UTF_8);
        String t = "20200227000000002181302000300947";
        Map<String, Map<String, String>> vectors = new LinkedHashMap<>();
        vectors.put("update-plain", params("templateId", t, "bizCardNo", "CRM00000001",
                "point", "100", "changeReason", "purchase"));
        vectors.put("update-empty-and-sign", params("templateId", t, "bizCardNo", "CRM00000002",
                "point", "0", "changeReason", "reset", "level", "", "balance", null,
                "sign", "c2hvdWxkIG5vdCBiZSBzaWduZWQ="));
        vectors.put("update-replay-guard", params("templateId", t, "bizCardNo", "CRM00000003",
                "point", "2500", "level", "VIP2", "balance", "88.00",
                "changeReason", "order 20240101-0001", "timestamp", "1700000000000",
                "nonce", "0123456789abcdef0123456789abcdef"));
        // Chinese written as Unicode escapes, so the file compiles whatever the platform encoding is.
        vectors.put("update-chinese", params("templateId", t, "bizCardNo", "CRM00000004",
                "point", "1288", "level", "\u91d1\u5361\u4f1a\u5458",
                "changeReason", "\u6d88\u8d39\u8d60\u9001\u79ef\u5206"));
        vectors.put("change-template", params("templateId", t, "bizCardNo", "CRM00000004",
                "targetTemplateId", "20200227000000002181302000300948",
                "changeReason", "\u5347\u7ea7\u4e3a\u91d1\u5361"));
        vectors.put("byte-order", params("alpha", "1", "aB", "2", "a1", "3", "Zeta", "4",
                "_x", "5", "Beta", "6"));

        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        for (Map.Entry<String, Map<String, String>> vector : vectors.entrySet()) {
            Map<String, String> p = vector.getValue();
            out.println(vector.getKey() + "\t" + canonicalString(p) + "\t"
                    + signStringParam(p, privateKey));
        }
    }
}
