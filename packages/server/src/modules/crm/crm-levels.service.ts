import { createHash } from 'node:crypto'
import type { CrmLevelCheck } from '@kaguan/contracts'
import type { AppDeps } from '../../deps.js'
import { AppError } from '../../shared/errors.js'
import { crmConnection, type MerchantDeps } from '../merchants/index.js'
import { getTemplate } from '../templates/index.js'

/** The claim flow's own limit for a CRM answer. */
const LEVEL_CHECK_TIMEOUT_MS = 5_000

/**
 * The made-up Alipay user kaguan's checks ask the CRM about: one per merchant, always the same, so
 * checking again and again leaves one test member in the CRM, not one per click.
 */
export function probeUserOf(merchantId: string): string {
  const digits = BigInt(`0x${createHash('sha256').update(merchantId).digest('hex').slice(0, 15)}`)
  return `2088${(digits % 10n ** 12n).toString().padStart(12, '0')}`
}

/**
 * What a new member of this template would get from the CRM, held against the template's level
 * codes: a level it does not define fails every claim (CRM_LEVEL_UNKNOWN), so the console warns
 * before publishing. One openCardInfo call; a CRM fault is reported, not thrown.
 */
export async function checkCrmLevels(
  deps: MerchantDeps & Pick<AppDeps, 'db' | 'crm'>,
  merchantId: string,
  templateId: string,
): Promise<CrmLevelCheck> {
  const template = await getTemplate(deps, templateId, merchantId)
  const definedLevels = template.spec.levels.map((l) => l.code)
  const conn = await crmConnection(deps, merchantId)
  if (!conn) {
    return { checked: false, ok: true, level: null, definedLevels }
  }
  try {
    const answer = await deps.crm.openCardInfo(
      { ...conn, timeoutMs: LEVEL_CHECK_TIMEOUT_MS },
      {
        alipayUserId: probeUserOf(merchantId),
        name: '卡管自检',
        outString: 'kaguan-level-check',
        ...(template.alipayTemplateId ? { templateId: template.alipayTemplateId } : {}),
      },
    )
    const level = answer.level ?? null
    return {
      checked: true,
      ok: level === null || definedLevels.includes(level),
      level,
      definedLevels,
    }
  } catch (error) {
    return {
      checked: false,
      ok: true,
      level: null,
      definedLevels,
      problem: error instanceof AppError ? `${error.code}: ${error.message}` : String(error),
    }
  }
}
