/**
 * Who an Alipay user is to one app (OpenID, alipay-today.md §1). Alipay is moving apps from the
 * 2088… `user_id` to a per-app `open_id` in stages: an app gets `user_id` only, both, or `open_id`
 * only. kaguan keys a member and a card by `id`: the `user_id` when the app gets one, else the
 * `open_id`; the `open_id` beside a `user_id` is stored too, so the user is still found once the
 * app gets only the `open_id`.
 */
export interface AlipayUser {
  /** The key: `user_id` when given, else `open_id`. What the CRM gets as `alipayUserId`. */
  id: string
  /** The app's open_id of the user, when Alipay gave one. */
  openId?: string
  /** The user's union_id across the merchant's app group, when Alipay gave one. */
  unionId?: string
}

/** The user of an oauth token, an SPI request or a message; undefined when it names nobody. */
export function alipayUserOf(fields: {
  user_id?: unknown
  open_id?: unknown
  union_id?: unknown
}): AlipayUser | undefined {
  const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined)
  const userId = text(fields.user_id)
  const openId = text(fields.open_id)
  const unionId = text(fields.union_id)
  const id = userId ?? openId
  if (!id) {
    return undefined
  }
  return { id, ...(openId ? { openId } : {}), ...(unionId ? { unionId } : {}) }
}

/** Whether an id is a 2088… user_id (else an open_id). */
export function isUserId(id: string): boolean {
  return /^2088\d{12}$/.test(id)
}
