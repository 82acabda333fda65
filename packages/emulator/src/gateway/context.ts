import type { MultipartPart } from './multipart.js'
import type { AppRecord, Runtime } from '../runtime.js'
import { GatewayCode, GatewayError, invalidParameter } from './errors.js'

/** One authenticated gateway call as a method handler sees it. */
export interface CallContext {
  rt: Runtime
  /** The app acted for: the merchant's when an ISV sends `app_auth_token`, else the caller. */
  app: AppRecord
  callerAppId: string
  params: Record<string, string>
  biz: Record<string, unknown>
  files: Map<string, MultipartPart>
}

/** A gateway method: which product the app needs, and the handler returning the response fields. */
export interface MethodDef {
  product: 'member_card' | 'koubei' | null
  run(ctx: CallContext): Record<string, unknown>
}

/** A biz field as a non-empty string (numbers accepted, since SDKs differ), or undefined. */
export function optString(obj: Record<string, unknown>, key: string): string | undefined {
  const value = obj[key]
  if (typeof value === 'string' && value !== '') {
    return value
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value)
  }
  return undefined
}

/** A required biz field; INVALID_PARAMETER naming it when missing. */
export function reqString(obj: Record<string, unknown>, key: string, where = ''): string {
  const value = optString(obj, key)
  if (value === undefined) {
    throw invalidParameter(`${where}${key} 不能为空`)
  }
  return value
}

/** A nested object field, or undefined. */
export function optObject(
  obj: Record<string, unknown>,
  key: string,
): Record<string, unknown> | undefined {
  const value = obj[key]
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}

/** An array field, or an empty array. */
export function optArray(obj: Record<string, unknown>, key: string): unknown[] {
  const value = obj[key]
  return Array.isArray(value) ? value : []
}

/** The user behind `auth_token` (§3.5-3.7): 20001 when missing, unknown, expired or used up. */
export function requireUserToken(ctx: CallContext): string {
  const token = ctx.params.auth_token
  if (token === undefined || token === '') {
    throw new GatewayError(GatewayCode.TokenPermission, 'aop.invalid-auth-token', '无效的访问令牌')
  }
  const row = ctx.rt.db
    .prepare('select app_id, user_id, expires_at, uses from tokens where access_token = ?')
    .get(token) as { app_id: string; user_id: string; expires_at: number; uses: number } | undefined
  if (row === undefined || row.app_id !== ctx.app.appId) {
    throw new GatewayError(GatewayCode.TokenPermission, 'aop.invalid-auth-token', '无效的访问令牌')
  }
  if (row.expires_at < Date.now()) {
    throw new GatewayError(GatewayCode.TokenPermission, 'aop.auth-token-time-out', '访问令牌已过期')
  }
  const max = ctx.rt.behaviour.accessTokenMaxUses
  if (max > 0 && row.uses >= max) {
    throw new GatewayError(
      GatewayCode.TokenPermission,
      'aop.invalid-auth-token',
      '访问令牌使用次数已用完',
    )
  }
  ctx.rt.db.prepare('update tokens set uses = uses + 1 where access_token = ?').run(token)
  return row.user_id
}
