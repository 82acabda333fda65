import type { Executor } from '../../db/db.js'
import { AppError } from '../../shared/errors.js'
import { crmConnection, type MerchantDeps } from '../merchants/index.js'
import { openCardInfo } from './crm-client.js'

export {
  cardChange,
  mdCodeChange,
  openCardInfo,
  type CrmEndpoint,
  type OpenCardInfoAnswer,
  type OpenCardInfoRequest,
} from './crm-client.js'

/** The Alipay user id "test connection" uses; a CRM can recognise and ignore it. */
export const PROBE_ALIPAY_USER_ID = '2088000000000000'

export interface CrmTestReport {
  ok: boolean
  url: string
  latencyMs: number
  problems: string[]
  answer?: unknown
}

/**
 * Calls the merchant's CRM as the claim flow would (`openCardInfo` for a probe user) and reports
 * what was wrong, with the fix, instead of throwing.
 */
export async function testCrmConnection(
  db: Executor,
  deps: MerchantDeps,
  merchantId: string,
): Promise<CrmTestReport> {
  const conn = await crmConnection(db, deps, merchantId)
  if (!conn) {
    return {
      ok: false,
      url: '',
      latencyMs: 0,
      problems: [
        'CRM mode is off or incomplete: set mode crm, the base URL, the token and the CRM public key',
      ],
    }
  }
  const url = `${conn.baseUrl}/card/openCardInfo`
  const started = Date.now()
  try {
    const answer = await openCardInfo(
      { baseUrl: conn.baseUrl, token: conn.token, timeoutMs: 5_000 },
      { alipayUserId: PROBE_ALIPAY_USER_ID, outString: 'kaguan-connection-test' },
    )
    const problems =
      answer.ms > 2_000
        ? [
            `the CRM took ${answer.ms} ms; Alipay users wait on this call while claiming a card: keep it under 1 s`,
          ]
        : []
    const { ms: _ms, ...shown } = answer
    return { ok: problems.length === 0, url, latencyMs: answer.ms, problems, answer: shown }
  } catch (error) {
    const message = error instanceof AppError ? `${error.code}: ${error.message}` : String(error)
    return { ok: false, url, latencyMs: Date.now() - started, problems: [message] }
  }
}
export {
  checkCrm,
  CheckStatus,
  type CrmCheckOptions,
  type CrmCheckReport,
  type CrmCheckRow,
} from './crm-check.js'
export { releaseNonce, REPLAY_WINDOW_MS, verifyCrmCall } from './crm-auth.js'
