import { OPENCARD_SPI_METHOD, verifyOpenCardSpi, type OpenCardSpiAnswer } from '@kaguan/alipay'
import type { FastifyReply } from 'fastify'
import type { AppDeps } from '../../deps.js'
import { answerOpenCardSpi } from '../../modules/cards/index.js'
import { notifiedApp, signedSpiAnswer } from '../../modules/merchants/index.js'
import { alipayUserOf } from '../../shared/alipay-user.js'

/** Whether a form posted to the app gateway is the 3.1 open-card SPI rather than a message. */
export function isOpenCardSpi(params: Record<string, string>): boolean {
  return params.method === OPENCARD_SPI_METHOD
}

/**
 * Answers `spi.alipay.user.opencard.get` (docs/alipay-3.1-opencard.md): verified with the app's
 * Alipay public key, answered JSON signed with the app's private key. A request that is not
 * Alipay's gets 400 and nothing is done.
 */
export async function onOpenCardSpi(
  deps: AppDeps,
  body: Buffer,
  params: Record<string, string>,
  pathMerchant: string | undefined,
  reply: FastifyReply,
): Promise<unknown> {
  const appId = params.biz_app_id ?? params.app_id
  const sender = await notifiedApp(deps, {
    ...(pathMerchant ? { merchantId: pathMerchant } : {}),
    ...(appId ? { appId } : {}),
  })
  if (!sender) {
    deps.log.warn({ appId, merchantId: pathMerchant }, 'open-card SPI for an unknown app')
    return reply
      .code(400)
      .send({ errcode: 'SPI_UNKNOWN_APP', message: 'biz_app_id is no merchant app' })
  }
  const verified = verifyOpenCardSpi(body, sender.alipayPublicKey)
  if (!verified.ok) {
    deps.log.warn(
      { reason: verified.reason, detail: verified.detail, merchantId: sender.merchantId },
      'open-card SPI not verified',
    )
    return reply.code(400).send({
      errcode: 'SPI_BAD_REQUEST',
      message: `the SPI request is not Alipay's: ${verified.reason}${verified.detail ? ` (${verified.detail})` : ''}`,
    })
  }
  const { biz } = verified.message
  const outcome = await answerOpenCardSpi(deps, {
    merchantId: sender.merchantId,
    templateId: biz.template_id,
    outSerialNo: biz.out_serial_no,
    alipayCardNo: biz.biz_card_no,
    user: alipayUserOf(biz),
    ...(typeof biz.user_info === 'string' ? { userInfo: biz.user_info } : {}),
  })
  const answer: OpenCardSpiAnswer = outcome.ok
    ? {
        code: '10000',
        msg: 'Success',
        external_card_no: outcome.card.externalCardNo,
        open_date: outcome.card.openDate,
        valid_date: outcome.card.validDate,
        point: String(outcome.card.point),
        ...(outcome.card.level !== undefined ? { level: outcome.card.level } : {}),
        ...(outcome.card.balance !== undefined ? { balance: outcome.card.balance } : {}),
      }
    : {
        code: '40004',
        msg: 'Business Failed',
        sub_code: outcome.code,
        sub_msg: outcome.message,
      }
  return reply
    .type('application/json; charset=utf-8')
    .send(await signedSpiAnswer(deps, sender.merchantId, answer))
}
