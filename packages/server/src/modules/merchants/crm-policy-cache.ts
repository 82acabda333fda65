import { LookupCache } from '../../shared/lookup-cache.js'

export interface CrmCallPolicy {
  publicKey: string | undefined
  replayStrict: boolean
}

/**
 * How long another process may verify with a CRM key the operator replaced (or skip a strict
 * replay rule just switched on): a few seconds, against a read of the merchant per CRM call.
 */
export const CRM_POLICY_TTL_MS = 5_000

export const crmPolicies = new LookupCache<CrmCallPolicy>(CRM_POLICY_TTL_MS)
