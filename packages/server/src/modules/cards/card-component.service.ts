import { CardErrors } from './cards.errors.js'
import { alipayUserOf, type AlipayUser } from '../../shared/alipay-user.js'
import { alipayContext, explainAlipayError } from '../merchants/index.js'
import { getComponent, getTemplate } from '../templates/index.js'
import { issueDynamicCode } from './card-events.service.js'
import { toCardView } from './card-state.service.js'
import * as repo from './cards.repository.js'
import type { CardsDeps } from './claim.service.js'

/**
 * The card a mini-program page shows for its user: the auth code (my.getAuthCode) is exchanged for
 * the user id, then the user's card of the component's template, with its code (the card number for
 * static codes, a fresh dynamic code otherwise). NOT_FOUND when the user has not claimed it.
 */
export async function componentCard(deps: CardsDeps, componentId: string, authCode: string) {
  const component = await getComponent(deps, componentId)
  const template = await getTemplate(deps, component.templateId)
  if (!template.alipayTemplateId) {
    throw CardErrors.notFound('the template is not published yet')
  }
  const ctx = await alipayContext(deps, component.merchantId)
  let user: AlipayUser | undefined
  try {
    // user_id, open_id or both, as the app's OpenID stage gives.
    user = alipayUserOf(
      await ctx.client.exchangeAuthCode(authCode, { appAuthToken: ctx.appAuthToken }),
    )
  } catch (error) {
    throw explainAlipayError(error, 'oauth')
  }
  const card = user
    ? await repo.findActiveForUser(
        deps.db,
        component.merchantId,
        template.alipayTemplateId,
        user.id,
        user.openId,
      )
    : undefined
  if (!card) {
    throw CardErrors.notFound('this user has no card of the template yet: show the claim link')
  }
  const type = template.spec.style.code.type
  const dynamic = type === 'dynamicQr' || type === 'dynamicBarcode'
  const code =
    type === 'none'
      ? null
      : dynamic
        ? { type, ...(await issueDynamicCode(deps, card, ctx.appId)) }
        : { type, codeValue: card.biz_card_no }
  const view = toCardView(card)
  return {
    bizCardNo: view.bizCardNo,
    point: view.point,
    level: view.level,
    balance: view.balance,
    validDate: view.validDate,
    code,
  }
}
