import type { ClaimOutcome } from '../../modules/cards/index.js'

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function page(title: string, body: string, refresh?: { seconds: number; url: string }): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escape(title)}</title>${refresh ? `<meta http-equiv="refresh" content="${refresh.seconds};url=${escape(refresh.url)}">` : ''}
<style>body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#f5f5f5;margin:0;padding:48px 20px;text-align:center;color:#333}
.box{background:#fff;border-radius:12px;max-width:420px;margin:0 auto;padding:32px 24px;box-shadow:0 1px 4px rgba(0,0,0,.08)}
h1{font-size:20px;margin:12px 0}.icon{font-size:48px}p{color:#666;line-height:1.6}
a.btn{display:inline-block;margin-top:16px;padding:10px 28px;border-radius:22px;background:#1677ff;color:#fff;text-decoration:none}</style></head>
<body><div class="box">${body}</div></body></html>`
}

/** The page the user lands on after the claim: where the card is, or what went wrong and what to do. */
export function claimPage(outcome: ClaimOutcome, retryUrl: string | undefined): string {
  if (outcome.status === 'done') {
    const link = outcome.cardUrl
      ? `<a class="btn" id="open-card" href="${escape(outcome.cardUrl)}">查看会员卡</a>`
      : ''
    return page(
      '领卡成功',
      `<div class="icon">✅</div><h1 id="claim-result" data-status="done">${outcome.alreadyHeld ? '您已领取过这张会员卡' : '领卡成功'}</h1><p>会员卡已放入支付宝卡包。<br>卡号 ${escape(outcome.bizCardNo)}</p>${link}`,
      outcome.cardUrl ? { seconds: 2, url: outcome.cardUrl } : undefined,
    )
  }
  if (outcome.status === 'pending') {
    return page(
      '正在办理',
      '<div class="icon">⏳</div><h1 id="claim-result" data-status="pending">会员卡正在办理中</h1><p>请稍候，页面会自动刷新。</p>',
      { seconds: 2, url: '' },
    )
  }
  const retry = retryUrl ? `<a class="btn" id="retry" href="${escape(retryUrl)}">重新领取</a>` : ''
  return page(
    '领卡未成功',
    `<div class="icon">⚠️</div><h1 id="claim-result" data-status="failed" data-code="${escape(outcome.code)}">领卡未成功</h1><p>${escape(outcome.message)}</p>${retry}`,
  )
}
