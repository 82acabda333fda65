import type { Member } from './member-store.js'

/** Levels offered by the page's form: codes the demo card template defines, with their names. */

/** The outcome of the last update, shown as a banner above the list. */
export interface Notice {
  ok: boolean
  text: string
}

/** What kaguan sent, as listed at the bottom of the page. */
export interface RecordedRequest {
  path: string
  body: unknown
  at: string
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
}

/** 138****8000: the page is a demo, but it still should not show full phone numbers. */
function maskMobile(mobile: string | undefined): string {
  if (!mobile) {
    return ''
  }
  return mobile.length >= 7 ? `${mobile.slice(0, 3)}****${mobile.slice(-4)}` : '****'
}

/** Masks personal fields of a logged request body (mobile, certificate number). */
function redact(body: unknown): unknown {
  if (body === null || typeof body !== 'object') {
    return body
  }
  const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) }
  if (typeof copy.mobile === 'string') {
    copy.mobile = maskMobile(copy.mobile)
  }
  if (typeof copy.certNo === 'string') {
    copy.certNo = '****'
  }
  return copy
}

const STATUS_LABEL: Record<Member['cardStatus'], string> = {
  NONE: '未开卡',
  ACTIVE: '已开卡',
  DELETED: '已删卡',
}

function memberRow(member: Member, levels: readonly { code: string; name?: string }[]): string {
  const card = escapeHtml(member.bizCardNo)
  const names = new Map(levels.map((l) => [l.code, l.name ?? l.code]))
  const levelOptions = [...new Set([...names.keys(), member.level])]
    .filter(Boolean)
    .map(
      (level) =>
        `<option value="${escapeHtml(level)}"${level === member.level ? ' selected' : ''}>${escapeHtml(names.get(level) ?? level)}</option>`,
    )
    .join('')
  return `<tr>
  <td><code>${card}</code></td>
  <td>${escapeHtml(member.name ?? '')}<div class="sub">${escapeHtml(maskMobile(member.mobile))}</div></td>
  <td><code>${escapeHtml(member.alipayUserId)}</code><div class="sub">${escapeHtml(member.alipayCardNo ?? '')}</div></td>
  <td><span class="tag tag-${member.cardStatus.toLowerCase()}">${STATUS_LABEL[member.cardStatus]}</span></td>
  <td class="num">${member.point}</td>
  <td>${escapeHtml(names.get(member.level) ?? member.level)}</td>
  <td>
    <form method="post" action="/members/update" class="inline">
      <input type="hidden" name="bizCardNo" value="${card}">
      <input name="point" type="number" step="1" min="0" value="${member.point}" aria-label="积分" required>
      <select name="level" aria-label="等级">${levelOptions}</select>
      <input name="changeReason" value="CRM 调整" aria-label="变更原因" required>
      <button type="submit">保存并同步</button>
    </form>
  </td>
</tr>`
}

/** The members page (zh-CN): members, the update form per member, and kaguan's recent calls. */
export function renderPage(input: {
  members: readonly Member[]
  notice?: Notice
  requests: readonly RecordedRequest[]
  kaguanCoreUrl: string
  /** The card template's levels, offered in each member's level menu. */
  levels: readonly { code: string; name?: string }[]
}): string {
  const rows = input.members.length
    ? input.members.map((m) => memberRow(m, input.levels)).join('\n')
    : '<tr><td colspan="7" class="empty">还没有会员。用户在支付宝领卡时，卡管会调用 /card/openCardInfo 在这里注册会员。</td></tr>'
  const notice = input.notice
    ? `<div class="notice ${input.notice.ok ? 'ok' : 'fail'}" role="status">${escapeHtml(input.notice.text)}</div>`
    : ''
  const recent = input.requests
    .slice(-20)
    .reverse()
    .map(
      (r) =>
        `<li><time>${escapeHtml(r.at)}</time> <code>${escapeHtml(r.path)}</code> <code class="body">${escapeHtml(JSON.stringify(redact(r.body)))}</code></li>`,
    )
    .join('')
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>示例 CRM · 会员</title>
<style>
  body { font-family: -apple-system, "PingFang SC", "Microsoft YaHei", sans-serif; margin: 0; background: #f5f6f8; color: #1f2329; }
  header { background: #1677ff; color: #fff; padding: 14px 24px; }
  header h1 { margin: 0; font-size: 18px; font-weight: 600; }
  header p { margin: 4px 0 0; font-size: 13px; opacity: .85; }
  main { padding: 20px 24px; max-width: 1200px; margin: 0 auto; }
  table { width: 100%; border-collapse: collapse; background: #fff; border-radius: 8px; overflow: hidden; box-shadow: 0 1px 2px rgba(0,0,0,.06); }
  th, td { padding: 10px 12px; border-bottom: 1px solid #eef0f3; text-align: left; font-size: 14px; vertical-align: middle; }
  th { background: #fafbfc; font-weight: 600; color: #4e5969; }
  td.num { font-variant-numeric: tabular-nums; font-weight: 600; }
  .sub { color: #86909c; font-size: 12px; margin-top: 2px; }
  .empty { text-align: center; color: #86909c; padding: 32px; }
  form.inline { display: flex; gap: 6px; flex-wrap: wrap; }
  form.inline input[type=number] { width: 90px; }
  form.inline input, form.inline select { padding: 4px 6px; border: 1px solid #d0d5dd; border-radius: 4px; font-size: 13px; }
  button { background: #1677ff; color: #fff; border: 0; border-radius: 4px; padding: 5px 12px; cursor: pointer; font-size: 13px; }
  .tag { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #f2f3f5; }
  .tag-active { background: #e8ffea; color: #00a870; }
  .tag-deleted { background: #ffece8; color: #f53f3f; }
  .notice { padding: 10px 14px; border-radius: 6px; margin-bottom: 16px; font-size: 14px; }
  .notice.ok { background: #e8ffea; color: #006b46; }
  .notice.fail { background: #ffece8; color: #cb2634; }
  h2 { font-size: 15px; margin: 24px 0 8px; }
  ul.log { list-style: none; padding: 0; margin: 0; font-size: 12px; }
  ul.log li { background: #fff; margin-bottom: 4px; padding: 6px 10px; border-radius: 4px; overflow-wrap: anywhere; }
  ul.log time { color: #86909c; }
</style>
</head>
<body>
<header>
  <h1>示例 CRM · 会员管理</h1>
  <p>修改积分或等级后，通过已签名的 /card/update 同步到卡管（${escapeHtml(input.kaguanCoreUrl)}）。</p>
</header>
<main>
${notice}
<table>
  <thead><tr><th>会员卡号</th><th>姓名 / 手机</th><th>支付宝用户 / 卡号</th><th>卡状态</th><th>积分</th><th>等级</th><th>调整</th></tr></thead>
  <tbody>
${rows}
  </tbody>
</table>
<h2>卡管最近的请求</h2>
<ul class="log">${recent || '<li>暂无</li>'}</ul>
</main>
</body>
</html>`
}
