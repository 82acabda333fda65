import { CardErrors } from './cards.errors.js'
import { randomInt } from 'node:crypto'
import { chinaTime } from '../../shared/china-time.js'
import { recordAudit } from '../audit/index.js'
import { acceptOnce } from '../inbox/index.js'
import {
  alipayContext,
  crmConnection,
  explainAlipayError,
  memberSystem,
} from '../merchants/index.js'
import { enqueue } from '../outbox/index.js'
import { getTemplate } from '../templates/index.js'
import type { CardsDeps } from './claim.service.js'
import * as repo from './cards.repository.js'
import type { CardRow } from './cards.table.js'
import { CARD_CHANGE_TOPIC, type CardChangePayload } from './topics.js'

/** Marks a card deleted and, in CRM mode, queues cardChange DEL — once, however often it is told. */
async function deleteInTransaction(
  deps: CardsDeps,
  card: CardRow,
  reason: string,
  actor: string,
  notifyId?: string,
): Promise<boolean> {
  return deps.db.transaction().execute(async (trx) => {
    if (
      notifyId &&
      !(await acceptOnce(
        { ...deps, db: trx },
        {
          source: 'alipay.notify',
          messageId: notifyId,
          merchantId: card.merchant_id,
        },
      ))
    ) {
      return false
    }
    const changed = await repo.markDeleted(trx, card.id, reason, deps.clock.nowIso())
    if (!changed) {
      return false
    }
    if ((await memberSystem({ db: trx }, card.merchant_id)).mode === 'crm') {
      const payload: CardChangePayload = {
        type: 'DEL',
        templateId: card.alipay_template_id,
        alipayUserId: card.alipay_user_id,
        ...(card.alipay_open_id ? { alipayOpenId: card.alipay_open_id } : {}),
        bizCardNo: card.biz_card_no,
        alipayCardNo: card.alipay_card_no,
      }
      await enqueue(
        { ...deps, db: trx },
        {
          merchantId: card.merchant_id,
          topic: CARD_CHANGE_TOPIC,
          // After the card's ADD, never before: a CRM told DEL then ADD would keep a deleted card.
          orderKey: card.id,
          payload,
        },
      )
    }
    await recordAudit(
      { ...deps, db: trx },
      {
        merchantId: card.merchant_id,
        actor,
        action: 'card.delete',
        target: { type: 'card', id: card.id },
        after: { reason },
      },
    )
    return true
  })
}

/** An Alipay card notification (open/delete), already verified; answers whether it was handled. */
export async function handleCardNotification(
  deps: CardsDeps,
  merchantId: string,
  message: { notifyId?: string; type: string; alipayCardNo?: string; reason?: string },
): Promise<'handled' | 'ignored'> {
  if (!/DELETE/i.test(message.type) || !message.alipayCardNo) {
    return 'ignored'
  }
  const card = await repo.findByAlipayCardNo(deps.db, merchantId, message.alipayCardNo)
  if (!card) {
    return 'ignored'
  }
  await deleteInTransaction(
    deps,
    card,
    message.reason ?? 'ALIPAY_DELETE',
    'alipay',
    message.notifyId,
  )
  return 'handled'
}

/**
 * Deletes a card from the console: `alipay.marketing.card.delete`, then the card is marked deleted
 * and the CRM told. A card Alipay no longer has is deleted here all the same.
 */
export async function deleteCardByAdmin(
  deps: CardsDeps,
  cardId: string,
  actor: { actor: string },
): Promise<void> {
  const card = await repo.findCard(deps.db, cardId)
  if (!card) {
    throw CardErrors.notFound(`card ${cardId} does not exist`)
  }
  if (card.status !== 'active') {
    throw CardErrors.alreadyDeleted(cardId)
  }
  const ctx = await alipayContext(deps, card.merchant_id)
  try {
    await ctx.client.deleteCard(
      {
        out_serial_no: `del_${card.id}`.slice(0, 32),
        target_card_no: card.alipay_card_no,
        target_card_no_type: 'BIZ_CARD',
        reason_code: 'CANCEL',
      },
      { appAuthToken: ctx.appAuthToken },
    )
  } catch (error) {
    // Alipay's own "no such card" means it is gone already: finish the deletion here.
    if (
      !/CARD_NOT_EXIST|CARD_STATUS/i.test(String((error as { subCode?: string }).subCode ?? ''))
    ) {
      throw explainAlipayError(error, 'card.delete')
    }
  }
  await deleteInTransaction(deps, card, 'ADMIN_DELETE', actor.actor)
}

/**
 * The user opened a dynamic-code card: get a code from the CRM (mdCodeChange) or make one, and send
 * it to Alipay with `card.update` `mdcode_info`.
 */
export async function handleMdcode(
  deps: CardsDeps,
  merchantId: string,
  alipayCardNo: string,
): Promise<void> {
  const card = await repo.findByAlipayCardNo(deps.db, merchantId, alipayCardNo)
  if (!card || card.status !== 'active') {
    throw CardErrors.notFound(`no active card ${alipayCardNo}`)
  }
  const ctx = await alipayContext(deps, merchantId)
  const { codeValue, codeExpire } = await issueDynamicCode(deps, card, ctx.appId)
  await ctx.client.updateCard(
    {
      target_card_no: card.alipay_card_no,
      target_card_no_type: 'BIZ_CARD',
      occur_time: chinaTime(deps.clock.now()),
      card_info: {
        mdcode_info: {
          code_status: 'SUCCESS',
          code_value: codeValue,
          expire_time: codeExpire,
          time_stamp: Math.floor(deps.clock.now().getTime() / 1000),
        },
      },
    },
    { appAuthToken: ctx.appAuthToken },
  )
}

/** A dynamic code for the card: from the CRM (mdCodeChange), or made and remembered by kaguan. */
export async function issueDynamicCode(
  deps: CardsDeps,
  card: CardRow,
  appId: string,
): Promise<{ codeValue: string; codeExpire: string }> {
  const template = await getTemplate(deps, card.template_id)
  const lifetime = template.spec.style.code.refreshSeconds ?? 60
  if ((await memberSystem(deps, card.merchant_id)).mode === 'crm') {
    const conn = await crmConnection(deps, card.merchant_id)
    if (!conn) {
      throw CardErrors.crmNotConfigured()
    }
    return deps.crm.mdCodeChange(conn, {
      appId,
      templateId: card.alipay_template_id,
      alipayUserId: card.alipay_user_id,
      expireTime: lifetime,
    })
  }
  const expires = new Date(deps.clock.now().getTime() + lifetime * 1000)
  const codeValue = `66${Array.from({ length: 16 }, () => randomInt(10)).join('')}`
  await repo.insertCode(deps.db, {
    code: codeValue,
    merchant_id: card.merchant_id,
    card_id: card.id,
    expires_at: expires.toISOString(),
    used_at: null,
    created_at: deps.clock.nowIso(),
  })
  return { codeValue, codeExpire: chinaTime(expires) }
}

/** A till checks a kaguan-made dynamic code: valid once, before it expires. */
export async function verifyDynamicCode(deps: CardsDeps, merchantId: string, code: string) {
  const cardId = await repo.useCode(deps.db, merchantId, code.trim(), deps.clock.nowIso())
  if (!cardId) {
    throw CardErrors.codeInvalid()
  }
  const card = (await repo.findCard(deps.db, cardId))!
  return {
    bizCardNo: card.biz_card_no,
    alipayCardNo: card.alipay_card_no,
    templateId: card.alipay_template_id,
    point: card.point,
    level: card.level,
    balance: card.balance,
  }
}
