import { Type, type Static } from '@sinclair/typebox'

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()])

/** A merchant's keys and tokens and the rotations under way: fingerprints and dates only. */
export const KeyCustodyView = Type.Object({
  appKey: Type.Object({
    fingerprint: Nullable(Type.String()),
    next: Type.Union([
      Type.Object({
        fingerprint: Type.String(),
        publicKey: Type.String({
          description:
            'base64 SPKI: upload it to the Alipay open platform as the app public key (应用公钥)',
        }),
        stagedAt: Type.String(),
      }),
      Type.Null(),
    ]),
  }),
  crmKey: Type.Object({
    fingerprint: Nullable(Type.String()),
    old: Type.Union([
      Type.Object({
        fingerprint: Type.String(),
        acceptedUntil: Type.String(),
        accepted: Type.Boolean(),
      }),
      Type.Null(),
    ]),
  }),
  crmToken: Type.Object({
    set: Type.Boolean(),
    next: Type.Union([
      Type.Object({ issuedAt: Type.String(), seenAt: Nullable(Type.String()) }),
      Type.Null(),
    ]),
  }),
})
export type KeyCustodyView = Static<typeof KeyCustodyView>

export const AppKeyStageBody = Type.Object(
  {
    privateKey: Type.Optional(
      Type.String({
        description:
          'the new app private key (PEM or base64, PKCS#8 or PKCS#1); omitted: kaguan makes a new RSA2 pair',
      }),
    ),
  },
  { additionalProperties: false },
)
export type AppKeyStageBody = Static<typeof AppKeyStageBody>

export const CrmKeyAddBody = Type.Object(
  {
    publicKey: Type.String({
      minLength: 1,
      description: "the CRM's new public key (PEM or base64)",
    }),
    overlapHours: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 2160,
        description: 'how long the old key stays accepted (default 168, a week)',
      }),
    ),
  },
  { additionalProperties: false },
)
export type CrmKeyAddBody = Static<typeof CrmKeyAddBody>

export const CrmTokenIssueBody = Type.Object(
  {
    token: Type.Optional(
      Type.String({
        minLength: 16,
        description: 'the new token; omitted: kaguan makes one (32 random bytes, base64url)',
      }),
    ),
  },
  { additionalProperties: false },
)
export type CrmTokenIssueBody = Static<typeof CrmTokenIssueBody>

/** The answer to issuing a token: the only time it is shown. */
export const CrmTokenIssued = Type.Composite([
  KeyCustodyView,
  Type.Object({
    issuedToken: Type.String({
      description: 'configure it in the CRM beside the old one; shown once',
    }),
  }),
])
export type CrmTokenIssued = Static<typeof CrmTokenIssued>
