import type { DemoStamps } from './stamps.js'
import { relative } from 'node:path'

/** `<data dir>/demo.json`: what `kaguan demo` started, for scripts and tests. */
export interface DemoInfo {
  roles: { management: string; mini: string; core: string }
  /** The management API's OpenAPI pages. */
  adminApiDocs: string
  emulator: { url: string; gatewayUrl: string; walletUrl: string }
  /** null when the demo runs against an outside CRM (`--crm-url`). */
  sampleCrm: { url: string } | null
  crm: { baseUrl: string }
  merchantId: string
  templateId: string
  alipayTemplateId: string
  claimLink: string
  admin: { username: string; passwordFile: string }
  /** Point collection (集点): the demo stamp and exchange activities. */
  stamps?: DemoStamps
}

/** What the text needs beyond demo.json: things not written to it (the password) or only shown. */
export interface DemoText {
  info: DemoInfo
  dataDir: string
  database: string
  infoFile: string
  templateName: string
  /** Known only when the demo made the account (else the user has their own). */
  adminPassword: string | undefined
  /** What this start reused from an earlier one, for a short note. */
  reused: boolean
}

/** The banner `kaguan demo` prints: zh-CN first, English after, URLs aligned so they can be clicked. */
export function renderDemoText(t: DemoText): string {
  const { info } = t
  const shown = (path: string) => {
    const rel = relative(process.cwd(), path)
    return rel && !rel.startsWith('..') ? rel : path
  }
  const row = (label: string, value: string) => `  ${label.padEnd(34 - wideChars(label))}${value}`
  const lines = [
    '',
    `kaguan 演示已启动 · kaguan demo is running${t.reused ? '（沿用上次的设置 · reusing the previous set-up）' : ''}`,
    `数据目录 data folder: ${shown(t.dataDir)}   数据库 database: ${t.database}`,
    '',
    // The console first: it is where a merchant's staff start (sign in with the admin login below).
    row('管理后台 console (web)', `${info.roles.management}/`),
    row('管理 management', `${info.roles.management}   ${info.roles.management}/readyz`),
    row('支付宝接入 mini (Alipay-facing)', `${info.roles.mini}   ${info.roles.mini}/readyz`),
    row('CRM 接口 core (CRM-facing)', `${info.roles.core}   ${info.roles.core}/readyz`),
    row(
      '管理 API 文档 admin API docs',
      `${info.adminApiDocs}   (POST /api/auth/login, then send x-csrf-token on writes)`,
    ),
    row(
      '管理员 admin login',
      t.adminPassword === undefined
        ? `${info.admin.username}（使用已有账号 · use your existing account; kaguan admin reset-password --username ${info.admin.username}）`
        : // The password itself stays out of the output: terminals and CI logs are kept and shared.
          `${info.admin.username}   （密码见 password in ${shown(info.admin.passwordFile)}）`,
    ),
    '',
    row(
      '支付宝模拟器 Alipay emulator',
      `${info.emulator.url}   gateway ${info.emulator.gatewayUrl}`,
    ),
    row('模拟钱包 emulator wallet', info.emulator.walletUrl),
    info.sampleCrm
      ? row('示例 CRM sample CRM (members)', `${info.sampleCrm.url}/`)
      : row('外部 CRM outside CRM', info.crm.baseUrl),
    '',
    `领卡链接 claim link（${t.templateName}, kaguan ${info.templateId}, 支付宝 Alipay ${info.alipayTemplateId}）:`,
    `  ${info.claimLink}`,
    '  在浏览器中打开：在模拟钱包里新建或选择用户，填写表单并同意，即可领卡。',
    '  Open it in a browser: the emulator wallet asks for a user (create one), then shows the claim form.',
    '',
    ...(info.stamps
      ? [
          `集点 point collection: 在演示门店付款 ≥ ¥10 得 1 点，5 点换 5 元券 (activity ${info.stamps.stampActivityId})`,
          '  Pay ≥ ¥10 at a demo shop in the wallet (付款) to earn a stamp; the card shows 集点 n/5.',
          `  兑换 exchange: ${info.roles.mini}${info.stamps.exchangePath}`,
          '  在同一浏览器登录模拟钱包后打开（模拟支付宝授权后跳到领券页）；也可作为会员卡的链接按钮。',
          '  Open it in the browser signed in to the wallet (Alipay authorization, then the coupon page),',
          '  or put it on the card as a URL action point.',
          '',
        ]
      : []),
    `以上信息另存于 also written to: ${shown(t.infoFile)}`,
    '按 Ctrl-C 停止 · Press Ctrl-C to stop.',
    '',
  ]
  return lines.join('\n')
}

/** CJK characters take two columns in a terminal; padEnd counts them as one. */
function wideChars(text: string): number {
  return [...text].filter((c) => /[\u3000-\u9fff\uff00-\uffef]/.test(c)).length
}
