import { AppError, ErrorKind } from '../../shared/errors.js'

/** Every code the cards module answers with (docs/errcodes.md lists them). */
export type CardErrorCode =
  | 'CARD_NOT_FOUND'
  | 'CARD_ALREADY_DELETED'
  | 'TEMPLATE_NOT_FOUND'
  | 'TEMPLATE_LEVEL_UNKNOWN'
  | 'CRM_LEVEL_UNKNOWN'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'POINTS_OWNED_BY_CRM'
  | 'POINTS_INSUFFICIENT'
  | 'CODE_INVALID'
  | 'CRM_NOT_CONFIGURED'
  | 'CRM_BAD_ANSWER'
  | 'CLAIM_NO_USER'
  | 'CLAIM_OTHER_TEMPLATE'
  | 'CLAIM_ALREADY_HELD'
  | 'ALIPAY_BAD_OPEN'
  | 'RECONCILE_JOB_NOT_FOUND'
  | ClaimRefusalCode
  | 'CLAIM_BLOCK_NOT_FOUND'
  | 'MEMBER_NOT_FOUND'

/** Why a claim was refused before anything was opened (counted on the dashboard). */
export type ClaimRefusalCode =
  'CLAIM_BLOCKED' | 'CLAIM_LIMIT_USER' | 'CLAIM_LIMIT_DEVICE' | 'CLAIM_LIMIT_IP' | 'CLAIM_LIMIT_DAY'

/** What the user is told on the claim page, by refusal; the operator sees the errcode. */
export const CLAIM_REFUSAL_TEXT: Record<ClaimRefusalCode, string> = {
  CLAIM_BLOCKED: '您暂时无法领取该商家的会员卡，如有疑问请联系商家。',
  CLAIM_LIMIT_USER: '您已经领取过这张会员卡，不能再次领取。',
  CLAIM_LIMIT_DEVICE: '这台手机领取这张会员卡的次数已达上限，请稍后再试。',
  CLAIM_LIMIT_IP: '当前网络领取这张会员卡的次数已达上限，请稍后再试或换个网络。',
  CLAIM_LIMIT_DAY: '今天的会员卡已经领完了，请明天再来。',
}

function cardError(kind: ErrorKind, code: CardErrorCode, message: string): AppError {
  return new AppError(kind, code, message)
}

/** The cards error catalogue: every throw site of one failure gets the same code and kind. */
export const CardErrors = {
  /** 3.1: the user already holds the template's card; Alipay should not open a second. */
  alreadyHeld: (bizCardNo: string) =>
    cardError(
      ErrorKind.Conflict,
      'CLAIM_ALREADY_HELD',
      `the user already holds this template's card (${bizCardNo})`,
    ),
  /** 3.1: Alipay opens the card of the SPI's template; the CRM may not name another. */
  spiOtherTemplate: (requested: string, answered: string) =>
    cardError(
      ErrorKind.Conflict,
      'CLAIM_OTHER_TEMPLATE',
      `the CRM's openCardInfo named template ${answered}, but a 3.1 (极速版) open is of template ${requested}: Alipay opens the card of the template the user claims`,
    ),
  notFound: (message: string) => cardError(ErrorKind.NotFound, 'CARD_NOT_FOUND', message),
  reconcileJobNotFound: (jobId: string) =>
    cardError(
      ErrorKind.NotFound,
      'RECONCILE_JOB_NOT_FOUND',
      `reconcile job ${jobId} is not known to this process (jobs live in the process that started them and are lost when it restarts): start a new one`,
    ),
  alreadyDeleted: (cardId: string) =>
    cardError(ErrorKind.Conflict, 'CARD_ALREADY_DELETED', `card ${cardId} is already deleted`),
  templateNotPublished: (alipayTemplateId: string) =>
    cardError(
      ErrorKind.NotFound,
      'TEMPLATE_NOT_FOUND',
      `templateId ${alipayTemplateId} is not a published kaguan template`,
    ),
  /** A level the template does not define: the CRM's answer, or kaguan's own default level. */
  levelUnknown: (fromCrm: boolean, level: string, templateId: string, defined: string[]) => {
    const list = defined.length ? defined.join(', ') : 'none'
    return new AppError(
      ErrorKind.Invalid,
      fromCrm ? 'CRM_LEVEL_UNKNOWN' : 'TEMPLATE_LEVEL_UNKNOWN',
      fromCrm
        ? `the CRM answered level "${level}" from /card/openCardInfo, which template ${templateId} does not define (defined level codes: ${list}): the CRM must answer one of those codes (not a level's name), or add "${level}" to the template's levels`
        : `the default level "${level}" is not defined in template ${templateId} (defined level codes: ${list}): define it in the template's levels`,
      { field: 'level', level, definedLevels: defined, templateId },
    )
  },
  keyReused: () =>
    cardError(
      ErrorKind.Conflict,
      'IDEMPOTENCY_KEY_REUSED',
      'this idempotency key was used for a different change',
    ),
  pointsOwnedByCrm: () =>
    cardError(
      ErrorKind.Conflict,
      'POINTS_OWNED_BY_CRM',
      "this merchant's CRM owns points: change them in the CRM, which sends them to kaguan",
    ),
  pointsInsufficient: (points: number, wanted: number) =>
    cardError(
      ErrorKind.Conflict,
      'POINTS_INSUFFICIENT',
      `the card has ${points} points; cannot take ${wanted}`,
    ),
  codeInvalid: () =>
    cardError(ErrorKind.NotFound, 'CODE_INVALID', 'the code is unknown, expired or already used'),
  crmNotConfigured: () =>
    cardError(
      ErrorKind.Invalid,
      'CRM_NOT_CONFIGURED',
      'CRM mode is on but the CRM base URL, token or public key is missing',
    ),
  crmUnknownTemplate: (templateId: string) =>
    cardError(
      ErrorKind.Invalid,
      'CRM_BAD_ANSWER',
      `the CRM answered templateId ${templateId}, which is not a published template of this merchant`,
    ),
  claimNoUser: () =>
    cardError(
      ErrorKind.Invalid,
      'CLAIM_NO_USER',
      'alipay.system.oauth.token answered without user_id or access_token',
    ),
  claimRefused: (code: ClaimRefusalCode, detail: string) =>
    cardError(ErrorKind.Conflict, code, detail),
  claimBlockNotFound: (alipayUserId: string) =>
    cardError(
      ErrorKind.NotFound,
      'CLAIM_BLOCK_NOT_FOUND',
      `Alipay user ${alipayUserId} is not blocked by this merchant`,
    ),
  memberNotFound: (memberId: string) =>
    cardError(ErrorKind.NotFound, 'MEMBER_NOT_FOUND', `no member ${memberId} of this merchant`),
  badOpen: () =>
    cardError(
      ErrorKind.Internal,
      'ALIPAY_BAD_OPEN',
      'alipay.marketing.card.open answered without card_info.biz_card_no',
    ),
}
