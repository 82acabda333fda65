import { identityFields } from './identity.js'
import { NotifyKind } from './notifier.js'
import type { AppRecord, Runtime, UserRecord } from './runtime.js'
import { json } from './store.js'

/** A stored card template: the template.create/modify fields as sent, plus what Alipay keeps beside. */
export interface TemplateRecord {
  templateId: string
  appId: string
  data: Record<string, unknown>
  notifyUrl: string | null
  form: { required: string[]; optional: string[] } | null
  seq: number
}

/** Card status: ACTIVE in the bag, REMOVED by the user in the wallet, DELETED by card.delete. */
export type CardStatus = 'ACTIVE' | 'REMOVED' | 'DELETED'

/** A stored member card. `data` holds Alipay's MerchantCard fields (snake_case). */
export interface CardRecord {
  bizCardNo: string
  appId: string
  templateId: string
  userId: string
  externalCardNo: string
  outSerialNo: string
  status: CardStatus
  data: Record<string, unknown>
  createdAt: string
}

interface TemplateRow {
  template_id: string
  app_id: string
  data: string
  notify_url: string | null
  form: string | null
  seq: number
}

interface CardRow {
  biz_card_no: string
  app_id: string
  template_id: string
  user_id: string
  external_card_no: string
  out_serial_no: string
  status: CardStatus
  data: string
  created_at: string
}

function templateFromRow(row: TemplateRow): TemplateRecord {
  return {
    templateId: row.template_id,
    appId: row.app_id,
    data: json(row.data),
    notifyUrl: row.notify_url,
    form: row.form === null ? null : json(row.form),
    seq: row.seq,
  }
}

function cardFromRow(row: CardRow): CardRecord {
  return {
    bizCardNo: row.biz_card_no,
    appId: row.app_id,
    templateId: row.template_id,
    userId: row.user_id,
    externalCardNo: row.external_card_no,
    outSerialNo: row.out_serial_no,
    status: row.status,
    data: json(row.data),
    createdAt: row.created_at,
  }
}

/** A template by id. */
export function findTemplate(rt: Runtime, templateId: string): TemplateRecord | undefined {
  const row = rt.db.prepare('select * from templates where template_id = ?').get(templateId) as
    TemplateRow | undefined
  return row === undefined ? undefined : templateFromRow(row)
}

/** A card by Alipay's number (`biz_card_no`). */
export function findCard(rt: Runtime, bizCardNo: string): CardRecord | undefined {
  const row = rt.db.prepare('select * from cards where biz_card_no = ?').get(bizCardNo) as
    CardRow | undefined
  return row === undefined ? undefined : cardFromRow(row)
}

/** Cards matching a where-clause fragment. */
export function listCards(rt: Runtime, where: string, ...args: unknown[]): CardRecord[] {
  return (
    rt.db.prepare(`select * from cards where ${where} order by rowid`).all(...args) as CardRow[]
  ).map(cardFromRow)
}

/** Persists a card's status and data. */
export function saveCard(rt: Runtime, card: CardRecord): void {
  rt.db
    .prepare('update cards set status = ?, template_id = ?, data = ? where biz_card_no = ?')
    .run(card.status, card.templateId, JSON.stringify(card.data), card.bizCardNo)
}

/** Persists a template's data/notify_url/form. */
export function saveTemplate(rt: Runtime, template: TemplateRecord): void {
  rt.db
    .prepare(
      'update templates set data = ?, notify_url = ?, form = ?, seq = ? where template_id = ?',
    )
    .run(
      JSON.stringify(template.data),
      template.notifyUrl,
      template.form === null ? null : JSON.stringify(template.form),
      template.seq,
      template.templateId,
    )
}

/** An app by id. */
export function findApp(rt: Runtime, appId: string): AppRecord | undefined {
  const row = rt.db.prepare('select data from apps where app_id = ?').get(appId) as
    { data: string } | undefined
  return row === undefined ? undefined : json<AppRecord>(row.data)
}

/** A user by id. */
export function findUser(rt: Runtime, userId: string): UserRecord | undefined {
  const row = rt.db.prepare('select data from users where user_id = ?').get(userId) as
    { data: string } | undefined
  return row === undefined ? undefined : json<UserRecord>(row.data)
}

/** The template's `card_level_conf[].level` values. */
export function templateLevels(template: TemplateRecord): string[] {
  const confs = template.data.card_level_conf
  if (!Array.isArray(confs)) {
    return []
  }
  return confs
    .map((c: unknown) =>
      c !== null && typeof c === 'object' ? (c as Record<string, unknown>).level : undefined,
    )
    .filter((l): l is string => typeof l === 'string')
}

/** The template's write-off (code) type, `qrcode` when unset. */
export function writeOffType(template: TemplateRecord): string {
  const value = template.data.write_off_type
  return typeof value === 'string' && value !== '' ? value : 'qrcode'
}

/** Alipay's MerchantCard view of a card (card.open/query responses). */
export function cardInfo(card: CardRecord): Record<string, unknown> {
  const { mdcode_info: _mdcode, ...rest } = card.data
  return { biz_card_no: card.bizCardNo, ...rest }
}

/** The wallet link `card.query` returns as schema_url; empty once the card left the bag (FAQ). */
export function schemaUrl(rt: Runtime, card: CardRecord): string {
  return card.status === 'ACTIVE'
    ? `${rt.publicUrl}/wallet/cards/${card.bizCardNo}?p=${passId(card)}`
    : ''
}

/** The pass id (`p` of the schema URL). */
export function passId(card: CardRecord): string {
  return `pass${card.bizCardNo}`
}

/**
 * The next `biz_card_no` of a template: biz_no_prefix + biz_no_suffix_len digits (§3.2). The suffix is
 * four digits of the template id and a sequence, so templates sharing a prefix do not collide.
 */
export function nextBizCardNo(rt: Runtime, template: TemplateRecord): string {
  const prefix = typeof template.data.biz_no_prefix === 'string' ? template.data.biz_no_prefix : ''
  const suffixLen = Math.max(8, Number(template.data.biz_no_suffix_len ?? 12))
  const exists = rt.db.prepare('select 1 from cards where biz_card_no = ?')
  for (;;) {
    template.seq += 1
    const no =
      prefix + template.templateId.slice(-4) + String(template.seq).padStart(suffixLen - 4, '0')
    if (exists.get(no) === undefined) {
      saveTemplate(rt, template)
      return no
    }
  }
}

/** Sends the card open/delete notification (§3.12), if the template or app has somewhere to send it. */
export function notifyCardChange(
  rt: Runtime,
  card: CardRecord,
  change: 'open' | 'delete',
  reasonCode?: string,
): void {
  const template = findTemplate(rt, card.templateId)
  const app = findApp(rt, card.appId)
  const b = rt.behaviour
  // Template notify_url notifications are plain HTTP; the app-level message service may be the long connection.
  if (template?.notifyUrl == null && app?.messageChannel === 'websocket') {
    const type = change === 'open' ? b.cardOpenNotifyType : b.cardDeleteNotifyType
    rt.channel.enqueue(card.appId, type, {
      template_id: card.templateId,
      biz_card_no: card.bizCardNo,
      external_card_no: card.externalCardNo,
      user_id: card.userId,
      ...(reasonCode !== undefined ? { reason_code: reasonCode } : {}),
      ...(change === 'open' ? { success: 'true' } : {}),
    })
    return
  }
  const url =
    template?.notifyUrl ??
    (b.cardNotifyFallbackToGateway ? app?.gatewayUrl : undefined) ??
    undefined
  if (url === undefined || url === '') {
    return
  }
  const type = change === 'open' ? b.cardOpenNotifyType : b.cardDeleteNotifyType
  const kind = change === 'open' ? NotifyKind.CardOpen : NotifyKind.CardDelete
  const fields: Record<string, string> = {
    template_id: card.templateId,
    biz_card_no: card.bizCardNo,
    external_card_no: card.externalCardNo,
    ...identityFields(app, card.appId, card.userId),
    ...(reasonCode !== undefined ? { reason_code: reasonCode } : {}),
  }
  if (b.cardNotifyFormat === 'message') {
    rt.notifier.send(kind, card.appId, url, {
      msg_method: type,
      app_id: card.appId,
      utc_timestamp: String(Date.now()),
      biz_content: JSON.stringify(change === 'open' ? { ...fields, success: 'true' } : fields),
    })
  } else {
    rt.notifier.send(kind, card.appId, url, { notify_type: type, app_id: card.appId, ...fields })
  }
}
