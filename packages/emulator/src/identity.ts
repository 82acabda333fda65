import { createHash } from 'node:crypto'
import type { AppRecord, Runtime } from './runtime.js'
import { json } from './store.js'

/**
 * OpenID (alipay-today.md §1): Alipay moves apps from the 2088… `user_id` to a per-app `open_id`
 * in stages. An app's `userIdMode` says which it gets: `user_id` only, `both`, or `open_id` only.
 * The default is `both` (what oauth.token answered before the setting existed).
 */
export type UserIdMode = 'user_id' | 'both' | 'open_id'

export function userIdModeOf(app: AppRecord | undefined): UserIdMode {
  return app?.userIdMode ?? 'both'
}

/** The user's open_id for an app: stable, per app, not the user_id (47 lowercase characters like Alipay's). */
export function openIdOf(appId: string, userId: string): string {
  const digest = createHash('sha256').update(`openid:${appId}:${userId}`).digest('hex')
  return `0${digest.slice(0, 46)}`
}

/** The user's union_id across an app group (only for apps that declare `unionGroup`). */
export function unionIdOf(group: string, userId: string): string {
  return `u${createHash('sha256').update(`unionid:${group}:${userId}`).digest('hex').slice(0, 46)}`
}

/** The identity fields Alipay sends an app for a user (`user_id` / `open_id` / `union_id`). */
export function identityFields(
  app: AppRecord | undefined,
  appId: string,
  userId: string,
): Record<string, string> {
  const mode = userIdModeOf(app)
  return {
    ...(mode !== 'open_id' ? { user_id: userId } : {}),
    ...(mode !== 'user_id' ? { open_id: openIdOf(appId, userId) } : {}),
    ...(app?.unionGroup ? { union_id: unionIdOf(app.unionGroup, userId) } : {}),
  }
}

/** The user behind an app's open_id, if any. */
export function userOfOpenId(rt: Runtime, appId: string, openId: string): string | undefined {
  const rows = rt.db.prepare('select data from users').all() as { data: string }[]
  for (const row of rows) {
    const { userId } = json<{ userId: string }>(row.data)
    if (openIdOf(appId, userId) === openId) {
      return userId
    }
  }
  return undefined
}
