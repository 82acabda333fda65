import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AppDeps } from '../../deps.js'
import { AdminErrors, roleAt, type AdminPrincipal } from '../../modules/admin/index.js'
import { getCard } from '../../modules/cards/index.js'
import { getClaimLink, getTemplate } from '../../modules/templates/index.js'

/**
 * How a management route names the merchant it acts on, declared in the route's
 * `config.tenancy`. A route that declares nothing is platform-only: a merchant-scoped account gets
 * 403 TENANCY_PLATFORM_ONLY, so a new route is closed to tenants until its author says otherwise.
 *
 * - `self`: acts on the signed-in account only (sign-in, own password).
 * - `path`: the `:merchantId` path parameter (every resource below it is looked up within it).
 * - `query`: the `merchantId` query parameter; filled in for an account that sees one merchant.
 * - `list`: lists merchants; the handler shows only {@link visibleMerchant} ones.
 * - a resource kind: the route's path parameter of that kind, resolved to its owning merchant.
 */
export type TenancyRule = 'self' | 'path' | 'query' | 'list' | ResourceKind

/** Resources addressed without a merchant in the path, with how to find their merchant. */
const RESOURCES = {
  template: {
    param: 'templateId',
    merchantOf: async (deps: AppDeps, id: string) => (await getTemplate(deps, id)).merchantId,
  },
  card: {
    param: 'cardId',
    merchantOf: async (deps: AppDeps, id: string) => (await getCard(deps, id)).merchantId,
  },
  'claim link': {
    param: 'linkId',
    merchantOf: async (deps: AppDeps, id: string) =>
      (await getTemplate(deps, (await getClaimLink(deps, id)).templateId)).merchantId,
  },
} as const
type ResourceKind = keyof typeof RESOURCES

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Which merchant the route acts on; see {@link TenancyRule}. Absent: platform-only. */
    tenancy?: TenancyRule
  }
}

/** Whether the signed-in account may see `merchantId` (platform admins see all). */
export function visibleMerchant(principal: AdminPrincipal, merchantId: string): boolean {
  return roleAt(principal, merchantId) !== undefined
}

/** The routes tenancy guards: the admin API (its docs aside) and the metrics. */
function guarded(url: string): boolean {
  return (url.startsWith('/api/') && !url.startsWith('/api/docs')) || url === '/metrics'
}

async function owningMerchant(
  deps: AppDeps,
  kind: ResourceKind,
  id: string,
): Promise<string | undefined> {
  try {
    return await RESOURCES[kind].merchantOf(deps, id)
  } catch {
    // Not found (or not readable): the same answer as another merchant's, below.
    return undefined
  }
}

/** The merchant a merchant-scoped account's request acts on, by the route's rule. */
async function merchantOfRequest(
  deps: AppDeps,
  request: FastifyRequest,
  rule: Exclude<TenancyRule, 'self' | 'list'>,
  principal: AdminPrincipal,
): Promise<string> {
  if (rule === 'path') {
    const merchantId = String((request.params as { merchantId?: unknown }).merchantId ?? '')
    if (!visibleMerchant(principal, merchantId)) {
      throw AdminErrors.merchantNotVisible(merchantId)
    }
    return merchantId
  }
  if (rule === 'query') {
    // Before validation the query is as parsed: a repeated parameter is an array (refused).
    const query = request.query as { merchantId?: unknown }
    if (query.merchantId === undefined) {
      if (principal.merchants.length !== 1) {
        throw AdminErrors.merchantRequired('querystring.merchantId')
      }
      query.merchantId = principal.merchants[0]!.merchantId
    }
    const merchantId = String(query.merchantId)
    if (!visibleMerchant(principal, merchantId)) {
      throw AdminErrors.merchantNotVisible(merchantId)
    }
    return merchantId
  }
  const id = String((request.params as Record<string, unknown>)[RESOURCES[rule].param] ?? '')
  const merchantId = await owningMerchant(deps, rule, id)
  if (merchantId === undefined || !visibleMerchant(principal, merchantId)) {
    throw AdminErrors.resourceNotVisible(rule, id)
  }
  return merchantId
}

/**
 * THE tenancy check, one hook for every management route. It runs at preValidation, before the
 * route's own hooks (`requirePermission`) and before the body is even looked at, so another
 * merchant's caller learns nothing, not even which bodies are valid. Platform admins pass; a
 * merchant-scoped account passes only to a merchant it sees, and its principal is then narrowed
 * to that merchant (its role there, that one membership), so the route's permission check and the
 * handler see the role that applies. Register before the routes it guards.
 */
export function registerTenancy(app: FastifyInstance, deps: AppDeps): void {
  app.addHook('preValidation', async (request) => {
    const principal = request.principal
    const url = request.routeOptions.url ?? ''
    if (!principal || principal.scope === 'platform' || !guarded(url)) {
      return
    }
    const rule = request.routeOptions.config.tenancy
    if (rule === undefined) {
      throw AdminErrors.platformOnly()
    }
    if (rule === 'self' || rule === 'list') {
      return
    }
    const merchantId = await merchantOfRequest(deps, request, rule, principal)
    const role = roleAt(principal, merchantId)!
    request.principal = { ...principal, role, merchants: [{ merchantId, role }] }
  })
}
