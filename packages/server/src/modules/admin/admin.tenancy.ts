import { can, type AdminRole, type Permission } from './admin.permissions.js'

/**
 * Tenancy: a `platform` account (the ISV's staff; every account made before tenancy existed) sees
 * every merchant with its one role; a `merchant` account sees only the merchants it is a member of,
 * with a role per merchant.
 */
export const AdminScopes = ['platform', 'merchant'] as const
export type AdminScope = (typeof AdminScopes)[number]

/** One merchant a merchant-scoped account may see, and its role there. */
export interface MerchantAccess {
  merchantId: string
  role: AdminRole
}

/** What tenancy needs to know about an account. */
export interface TenancyOf {
  role: AdminRole
  scope: AdminScope
  merchants: readonly MerchantAccess[]
}

/** The account's role at `merchantId`, undefined when it may not see that merchant at all. */
export function roleAt(account: TenancyOf, merchantId: string): AdminRole | undefined {
  if (account.scope === 'platform') {
    return account.role
  }
  return account.merchants.find((m) => m.merchantId === merchantId)?.role
}

/** Whether some merchant the account sees grants `permission` (platform: its role does). */
export function canSomewhere(account: TenancyOf, permission: Permission): boolean {
  if (account.scope === 'platform') {
    return can(account.role, permission)
  }
  return account.merchants.some((m) => can(m.role, permission))
}
