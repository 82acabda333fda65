import { LookupCache } from '../../shared/lookup-cache.js'

/** A CRM public key verifying signed calls, until `acceptedUntil` (null: with no end). */
export interface AcceptedCrmKey {
  /** PEM (SPKI). */
  publicKey: string
  acceptedUntil: string | null
}

export interface CrmCallPolicy {
  /** The CRM public keys accepted now: the current one first, during a rotation the old one too. */
  acceptedKeys: AcceptedCrmKey[]
  replayStrict: boolean
}

/**
 * How long another process may verify with a CRM key the operator replaced (or skip a strict
 * replay rule just switched on): a few seconds, against a read of the merchant per CRM call.
 */
export const CRM_POLICY_TTL_MS = 5_000

export const crmPolicies = new LookupCache<CrmCallPolicy>(CRM_POLICY_TTL_MS)
