import { CrmErrors } from './crm.errors.js'
import type { AppDeps } from '../../deps.js'
import type { CrmPort } from '../../ports/crm-client.js'
import { crmConnection, memberSystem, type MerchantDeps } from '../merchants/index.js'
import { listTemplates } from '../templates/index.js'
import { checkCrm, type CrmCheckReport } from './crm-check.js'
import { probeUserOf } from './crm-levels.service.js'

/** How long "test the CRM" waits for each call: the claim flow's own limit. */
const TEST_TIMEOUT_MS = 5_000

/**
 * "Test the CRM" in the console: the same conformance steps as `kaguan crm-check`, run against the
 * merchant's saved connection, plus what only the merchant's set-up can tell (its templates' level
 * codes, its replay mode). Reports instead of throwing.
 */
export async function testCrmConnection(
  deps: MerchantDeps & { crm: CrmPort } & Pick<AppDeps, 'db'>,
  merchantId: string,
): Promise<CrmCheckReport> {
  const conn = await crmConnection(deps, merchantId)
  if (!conn) {
    throw CrmErrors.notConfigured()
  }
  const templates = await listTemplates(deps, merchantId)
  const levelCodes = [
    ...new Set(
      templates.filter((t) => t.alipayTemplateId).flatMap((t) => t.spec.levels.map((l) => l.code)),
    ),
  ]
  return checkCrm(deps.crm, {
    baseUrl: conn.baseUrl,
    token: conn.token,
    publicKey: conn.publicKey,
    timeoutMs: TEST_TIMEOUT_MS,
    // The same test member every time: repeated tests must not fill the CRM with probe members.
    probeUserId: probeUserOf(merchantId),
    levelCodes,
    replayStrict: (await memberSystem(deps, merchantId)).replayStrict,
  })
}
