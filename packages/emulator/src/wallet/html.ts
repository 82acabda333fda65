/** Escapes text for HTML content and attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
}

const css = `
*{box-sizing:border-box}body{margin:0;background:#f5f5f5;font:15px/1.5 -apple-system,"PingFang SC","Microsoft YaHei",sans-serif;color:#333}
.phone{max-width:420px;margin:0 auto;min-height:100vh;background:#f5f5f5}
header{background:#1677ff;color:#fff;padding:12px 16px;display:flex;align-items:center;gap:8px}
header a{color:#fff;text-decoration:none}header h1{font-size:17px;margin:0;flex:1;text-align:center}
main{padding:12px}.panel{background:#fff;border-radius:10px;padding:14px;margin-bottom:12px}
.btn{display:block;width:100%;padding:11px;border:0;border-radius:8px;background:#1677ff;color:#fff;font-size:16px;text-align:center;text-decoration:none;cursor:pointer}
.btn.secondary{background:#fff;color:#1677ff;border:1px solid #1677ff}.btn.danger{background:#fff;color:#ff4d4f;border:1px solid #ff4d4f}
label{display:block;margin:8px 0 4px;color:#666;font-size:14px}input,select{width:100%;padding:9px;border:1px solid #ddd;border-radius:6px;font-size:15px}
.row{display:flex;justify-content:space-between;padding:8px 0;border-bottom:1px solid #f0f0f0}.row:last-child{border-bottom:0}
.card{border-radius:12px;min-height:170px;padding:16px;color:#fff;background:#555 center/cover;position:relative;box-shadow:0 2px 8px rgba(0,0,0,.15);display:block;text-decoration:none;margin-bottom:12px}
.card img.logo{width:44px;height:44px;border-radius:50%;background:#fff;object-fit:cover;vertical-align:middle}
.card .name{font-size:18px;font-weight:600;margin-left:8px;vertical-align:middle}.card .no{position:absolute;bottom:14px;left:16px;letter-spacing:1px}.card .front{position:absolute;right:16px;bottom:14px;display:flex;gap:10px;font-weight:600}
.columns{display:flex;text-align:center}.columns div{flex:1}.columns b{display:block;font-size:18px}
.code{text-align:center}.code svg{max-width:240px;width:100%}.code .barcode{max-width:100%;height:80px}
.muted{color:#999;font-size:13px}.error{color:#ff4d4f;text-align:center;font-size:16px;padding:24px 8px}
.agree{display:flex;gap:6px;align-items:center;margin:12px 0}.agree input{width:auto}ul.plain{list-style:none;padding:0;margin:0}
`

/** The mobile-looking page shell. */
export function page(title: string, body: string, options: { back?: string } = {}): string {
  const back =
    options.back === undefined
      ? '<span style="width:24px"></span>'
      : `<a href="${esc(options.back)}" aria-label="返回">‹</a>`
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${css}</style></head><body><div class="phone"><header>${back}<h1>${esc(title)}</h1><a href="/wallet" aria-label="首页">⌂</a></header><main>${body}</main></div></body></html>`
}
