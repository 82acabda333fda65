import { findApp, findCard, findTemplate, nextBizCardNo } from './cards.js'
import type { CardRecord } from './cards.js'
import { ClaimError, type ClaimLink } from './claim.js'
import { notifySignContent, parsePublicKey, signText, verifyText } from './crypto.js'
import { identityFields } from './identity.js'
import { alipayTime, digits } from './ids.js'
import { NotifyKind } from './notifier.js'
import type { Runtime } from './runtime.js'

/**
 * The wallet's 3.1 (极速版) open (docs/alipay-3.1-opencard.md): after the user agrees to the form,
 * Alipay calls the merchant's SPI `spi.alipay.user.opencard.get` with the form, a fresh
 * `out_serial_no` and the card number it will open; on a signed success answer it opens the card in
 * the bag with the answered number and state, and then tells the merchant the final result with the
 * message `alipay.user.opencard.result.notify`. The answer's shape and signing are assumed (the
 * public docs do not show them): `{"response":{code,msg,external_card_no,open_date,valid_date,
 * point,level,balance},"sign","sign_type"}`, the sign over the response text with the app's key.
 */
export const OPENCARD_SPI_METHOD = 'spi.alipay.user.opencard.get'
export const OPENCARD_RESULT_METHOD = 'alipay.user.opencard.result.notify'

/** How a driven 3.1 claim goes. */
export interface SpiClaimOptions {
  /** The final result Alipay reports (default success): `failure` opens no card and says so. */
  result?: 'success' | 'failure'
  /** Send the same SPI request this many times (Alipay retrying a slow answer); default 1. */
  spiCalls?: number
}

export interface SpiClaimOutcome {
  outSerialNo: string
  bizCardNo: string
  /** The merchant's (last) answer, verified; null when it did not verify or was not JSON. */
  answers: (Record<string, unknown> | null)[]
  /** HTTP status of each SPI call. */
  statuses: number[]
  /** Whether a card is now in the bag. */
  opened: boolean
  /** The result message queued (none when the SPI refused). */
  resultNotifyId: string | null
  card: CardRecord | null
}

function spiUrlOf(rt: Runtime, appId: string): string {
  const app = findApp(rt, appId)
  const url = app?.spiUrl ?? app?.gatewayUrl
  if (url === undefined || url === '') {
    throw new ClaimError('SPI_NOT_CONFIGURED', `应用 ${appId} 未配置 SPI 地址或应用网关`)
  }
  return url
}

/** Reads a signed SPI answer; null when it is not one or the signature does not verify. */
function verifiedAnswer(body: string, appPublicKey: string): Record<string, unknown> | null {
  const match = /^\{"response":(.*),"sign":("(?:[^"\\]|\\.)*")(?:,"sign_type":"(RSA2?)")?\}$/s.exec(
    body.trim(),
  )
  if (!match) {
    return null
  }
  const [, response, sign, signType] = match
  const key = parsePublicKey(appPublicKey)
  if (
    !verifyText(response!, JSON.parse(sign!) as string, key, signType === 'RSA' ? 'RSA' : 'RSA2')
  ) {
    return null
  }
  try {
    return JSON.parse(response!) as Record<string, unknown>
  } catch {
    return null
  }
}

const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined

/** Runs a 3.1 open for a submitted form (`infos`: the form as Alipay's JSON array). */
export async function claimBySpi(
  rt: Runtime,
  link: ClaimLink,
  userId: string,
  infos: string,
  options: SpiClaimOptions = {},
): Promise<SpiClaimOutcome> {
  const template = findTemplate(rt, link.templateId)
  if (template === undefined) {
    throw new ClaimError('INVALID_LINK', '领卡链接无效或已失效')
  }
  const spiAppId = String(template.data.spi_app_id)
  const app = findApp(rt, spiAppId)
  if (app === undefined) {
    throw new ClaimError('SPI_NOT_CONFIGURED', `SPI 应用不存在:${spiAppId}`)
  }
  const url = spiUrlOf(rt, spiAppId)
  const outSerialNo = `${Date.now()}${digits(8)}`
  const bizCardNo = nextBizCardNo(rt, template)
  const params: Record<string, string> = {
    method: OPENCARD_SPI_METHOD,
    charset: 'utf-8',
    version: '1.0',
    biz_app_id: spiAppId,
    utc_timestamp: alipayTime(),
    sign_type: 'RSA2',
    biz_content: JSON.stringify({
      ...identityFields(app, spiAppId, userId),
      template_id: template.templateId,
      out_serial_no: outSerialNo,
      biz_card_no: bizCardNo,
      user_info: infos,
    }),
  }
  params.sign = signText(notifySignContent(params), rt.alipayKey)
  const answers: (Record<string, unknown> | null)[] = []
  const statuses: number[] = []
  for (let i = 0; i < Math.max(1, options.spiCalls ?? 1); i++) {
    let response: Response
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(30_000),
      })
    } catch (err) {
      throw new ClaimError(
        'SPI_UNREACHABLE',
        `商家 SPI 无法访问:${err instanceof Error ? err.message : String(err)}`,
      )
    }
    statuses.push(response.status)
    answers.push(verifiedAnswer(await response.text(), app.appPublicKey))
  }
  const answer = answers[answers.length - 1]
  if (answer === null || answer === undefined || answer.code !== '10000') {
    return {
      outSerialNo,
      bizCardNo,
      answers,
      statuses,
      opened: false,
      resultNotifyId: null,
      card: null,
    }
  }
  const externalCardNo = text(answer.external_card_no) ?? ''
  const success = options.result !== 'failure' && externalCardNo !== ''
  let card: CardRecord | null = null
  if (success) {
    const now = Date.now()
    const data: Record<string, unknown> = {
      external_card_no: externalCardNo,
      open_date: text(answer.open_date) ?? alipayTime(now),
      valid_date: text(answer.valid_date) ?? alipayTime(now + 10 * 365 * 86400_000),
    }
    for (const key of ['level', 'point', 'balance']) {
      const value = text(answer[key])
      if (value !== undefined) {
        data[key] = value
      }
    }
    rt.db
      .prepare(
        `insert into cards (biz_card_no, app_id, template_id, user_id, external_card_no, out_serial_no, status, data, created_at)
         values (?, ?, ?, ?, ?, ?, 'ACTIVE', ?, ?)`,
      )
      .run(
        bizCardNo,
        template.appId,
        template.templateId,
        userId,
        externalCardNo,
        outSerialNo,
        JSON.stringify(data),
        new Date(now).toISOString(),
      )
    // The result message below is the 3.1 open's notification.
    card = findCard(rt, bizCardNo) ?? null
  }
  const gateway = app.gatewayUrl
  const resultNotifyId =
    gateway === undefined || gateway === ''
      ? null
      : rt.notifier.send(NotifyKind.OpenCardResult, spiAppId, gateway, {
          msg_method: OPENCARD_RESULT_METHOD,
          app_id: spiAppId,
          utc_timestamp: String(Date.now()),
          version: '1.1',
          biz_content: JSON.stringify({
            template_id: template.templateId,
            biz_card_no: bizCardNo,
            external_card_no: externalCardNo,
            success: success ? 'true' : 'false',
            ...identityFields(app, spiAppId, userId),
          }),
        })
  return { outSerialNo, bizCardNo, answers, statuses, opened: success, resultNotifyId, card }
}
