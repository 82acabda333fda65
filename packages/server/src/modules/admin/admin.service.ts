import type { AppDeps } from '../../deps.js'
import { createHash, createHmac, randomBytes } from 'node:crypto'
import type { FieldProblem } from '../../shared/errors.js'
import { recordAudit } from '../audit/index.js'
import { AdminErrors } from './admin.errors.js'
import { burnVerify, hashPassword, passwordProblems, verifyPassword } from './admin.password.js'
import { AdminRoles, isAdminRole, type AdminRole } from './admin.permissions.js'
import * as repo from './admin.repository.js'
import type { AdminMembershipRow, AdminUserRow } from './admin.table.js'
import type { AdminScope, MerchantAccess } from './admin.tenancy.js'

/** Failed sign-ins in a row that lock an account. */
export const MAX_FAILED_LOGINS = 5
/** How long a locked account stays locked. */
export const LOCKOUT_MS = 15 * 60_000
/** A session ends after this long without a request (sliding expiry). */
export const SESSION_TTL_MS = 12 * 60 * 60_000
// Sliding the expiry on every request would turn every read into a write; once a minute is enough.
const TOUCH_EVERY_MS = 60_000

const USERNAME = /^[a-z0-9][a-z0-9._@-]{2,63}$/
// 32 random bytes in base64url, exactly what login hands out; anything else is not worth a query.
const SESSION_TOKEN = /^[A-Za-z0-9_-]{43}$/

export type AdminDeps = Pick<AppDeps, 'clock' | 'ids'>

/** Audit context of a change: who made it (`admin:<id>`, `cli`) and, over HTTP, the request id. */
export interface AuditContext {
  requestId?: string
}

/** An admin user as the rest of the server sees it: never the password hash. */
export interface AdminUser {
  id: string
  username: string
  role: AdminRole
  /** `platform`: every merchant; `merchant`: only {@link merchants}. */
  scope: AdminScope
  /** The merchants a merchant-scoped account sees, with its role at each; empty for platform. */
  merchants: MerchantAccess[]
  disabled: boolean
  failedLogins: number
  /** Set while sign-ins are refused after repeated failures (ISO-8601 UTC). */
  lockedUntil: string | null
  createdAt: string
  updatedAt: string
}

/** Who is making a request: put on the request by the auth hook, checked by `can()`. */
export interface AdminPrincipal {
  userId: string
  username: string
  /** The account's role; for a merchant-scoped account, its role at the merchant of the request once known. */
  role: AdminRole
  scope: AdminScope
  /** Merchant-scoped accounts: the merchants they see and their role at each. */
  merchants: readonly MerchantAccess[]
  sessionId: string
}

export interface LoginResult {
  principal: AdminPrincipal
  /** The credential for the `kaguan_session` cookie; stored only as its sha256. */
  sessionToken: string
  /** Sent back in `x-csrf-token` on every unsafe request of this session. */
  csrfToken: string
  expiresAt: string
}

function accessOf(rows: readonly AdminMembershipRow[]): MerchantAccess[] {
  return rows.map((m) => ({ merchantId: m.merchant_id, role: m.role }))
}

function toAdminUser(row: AdminUserRow, memberships: readonly AdminMembershipRow[]): AdminUser {
  return {
    id: row.id,
    username: row.username,
    role: row.role,
    scope: row.scope,
    merchants: row.scope === 'merchant' ? accessOf(memberships) : [],
    disabled: row.disabled === 1,
    failedLogins: row.failed_logins,
    lockedUntil: row.locked_until,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

/** Usernames compare case-insensitively and ignore surrounding blanks: `Alice ` is `alice`. */
export function normalizeUsername(username: string): string {
  return username.trim().toLowerCase()
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex')
}

/**
 * The CSRF token of a session, derived from its token: nothing extra to store, and a database
 * copy (which only holds token hashes) cannot produce it.
 */
function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('kaguan csrf v1').digest('base64url')
}

function addMs(iso: string, ms: number): string {
  return new Date(new Date(iso).getTime() + ms).toISOString()
}

function usernameProblems(username: string, field = 'username'): FieldProblem[] {
  return USERNAME.test(username)
    ? []
    : [
        {
          field,
          message:
            'must be 3–64 characters: lowercase letters, digits, ".", "_", "@" or "-", starting with a letter or digit',
        },
      ]
}

function roleProblems(role: unknown, field = 'role'): FieldProblem[] {
  return isAdminRole(role) ? [] : [{ field, message: `must be one of ${AdminRoles.join(', ')}` }]
}

function membershipProblems(merchants: readonly MerchantAccess[] | undefined): FieldProblem[] {
  if (merchants === undefined) {
    return []
  }
  if (!merchants.length) {
    return [
      {
        field: 'merchants',
        message: 'must name at least one merchant (omit it for a platform admin)',
      },
    ]
  }
  const seen = new Set<string>()
  return merchants.flatMap((m, i) => {
    const problems = roleProblems(m.role, `merchants[${i}].role`)
    if (typeof m.merchantId !== 'string' || !m.merchantId) {
      problems.push({ field: `merchants[${i}].merchantId`, message: 'must be a merchant id' })
    } else if (seen.has(m.merchantId)) {
      problems.push({ field: `merchants[${i}].merchantId`, message: 'is named twice' })
    }
    seen.add(m.merchantId)
    return problems
  })
}

/** A foreign-key violation on either engine: a membership naming a merchant that does not exist. */
function isForeignKeyViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503'
}

async function findUser(
  deps: Pick<AppDeps, 'db'>,
  ref: { userId: string } | { username: string },
): Promise<AdminUserRow> {
  const { db } = deps
  const row =
    'userId' in ref
      ? await repo.findUserById(db, ref.userId)
      : await repo.findUserByUsername(db, normalizeUsername(ref.username))
  if (!row) {
    throw AdminErrors.userNotFound('userId' in ref ? ref.userId : `"${ref.username}"`)
  }
  return row
}

/**
 * Creates an admin user; the change is audited as `actor`. With `merchants`, the account sees only
 * those merchants (its role at each given there; `role` is its role for display and defaults);
 * without, it is a platform admin. Throws ADMIN_USERNAME_TAKEN, REQUEST_INVALID.
 */
export async function createAdminUser(
  deps: AdminDeps & Pick<AppDeps, 'db'>,
  input: { username: string; password: string; role: AdminRole; merchants?: MerchantAccess[] },
  actor: string,
  context: AuditContext = {},
): Promise<AdminUser> {
  const { db } = deps
  const username = normalizeUsername(input.username)
  const problems = [
    ...usernameProblems(username),
    ...passwordProblems(input.password, username),
    ...roleProblems(input.role),
    ...membershipProblems(input.merchants),
  ]
  if (problems.length) {
    throw AdminErrors.invalid(problems)
  }
  if (await repo.findUserByUsername(db, username)) {
    throw AdminErrors.usernameTaken(username)
  }
  // Hash outside the transaction: it takes tens of milliseconds and SQLite has one connection.
  const passwordHash = await hashPassword(input.password)
  const now = deps.clock.nowIso()
  const row: AdminUserRow = {
    id: deps.ids.next('adm'),
    username,
    password_hash: passwordHash,
    role: input.role,
    scope: input.merchants ? 'merchant' : 'platform',
    failed_logins: 0,
    locked_until: null,
    disabled: 0,
    created_at: now,
    updated_at: now,
  }
  const memberships: AdminMembershipRow[] = (input.merchants ?? []).map((m) => ({
    user_id: row.id,
    merchant_id: m.merchantId,
    role: m.role,
    created_at: now,
  }))
  try {
    await repo.inTransaction(db, async (tx) => {
      await repo.insertUser(tx, row)
      await repo.insertMemberships(tx, memberships)
      await recordAudit(
        { ...deps, db: tx },
        {
          actor,
          action: 'admin.user.create',
          target: { type: 'admin_user', id: row.id },
          after: {
            username,
            role: row.role,
            scope: row.scope,
            merchants: accessOf(memberships),
            disabled: false,
          },
          requestId: context.requestId,
        },
      )
    })
  } catch (error) {
    // Two creates of one name at once: the unique index decides, the loser gets the same answer.
    if (repo.isUniqueViolation(error)) {
      throw AdminErrors.usernameTaken(username)
    }
    if (isForeignKeyViolation(error)) {
      throw AdminErrors.invalid([
        { field: 'merchants', message: 'names a merchant that does not exist' },
      ])
    }
    throw error
  }
  return toAdminUser(row, memberships)
}

/**
 * Sets a new password, clears the lock-out and ends every session of the user (a reset usually
 * means the old password may be known to someone else).
 */
export async function resetAdminPassword(
  deps: AdminDeps & Pick<AppDeps, 'db'>,
  input: ({ userId: string } | { username: string }) & { password: string },
  actor: string,
  context: AuditContext = {},
): Promise<{ user: AdminUser; sessionsEnded: number }> {
  const { db } = deps
  const existing = await findUser(deps, input)
  const problems = passwordProblems(input.password, existing.username)
  if (problems.length) {
    throw AdminErrors.invalid(problems)
  }
  const passwordHash = await hashPassword(input.password)
  forgetUser(deps, existing.id)
  return repo.inTransaction(db, async (tx) => {
    const now = deps.clock.nowIso()
    const row = await repo.updateUser(tx, existing.id, {
      password_hash: passwordHash,
      failed_logins: 0,
      locked_until: null,
      updated_at: now,
    })
    if (!row) {
      throw AdminErrors.userNotFound(existing.id)
    }
    const sessionsEnded = await repo.deleteSessionsOfUser(tx, existing.id)
    await recordAudit(
      { ...deps, db: tx },
      {
        actor,
        action: 'admin.user.password_reset',
        target: { type: 'admin_user', id: existing.id },
        before: { failedLogins: existing.failed_logins, lockedUntil: existing.locked_until },
        after: { failedLogins: 0, lockedUntil: null, sessionsEnded },
        requestId: context.requestId,
      },
    )
    return { user: toAdminUser(row, await repo.listMemberships(tx, row.id)), sessionsEnded }
  })
}

/**
 * A signed-in user changes their own password: the current one proves it is them (an unattended
 * console must not be enough), every other session of theirs ends, this one stays.
 */
export async function changeOwnPassword(
  deps: AdminDeps & Pick<AppDeps, 'db'>,
  input: { userId: string; sessionId: string; currentPassword: string; newPassword: string },
  context: AuditContext = {},
): Promise<{ sessionsEnded: number }> {
  const { db } = deps
  const existing = await findUser(deps, { userId: input.userId })
  if (!(await verifyPassword(existing.password_hash, input.currentPassword))) {
    throw AdminErrors.currentPasswordWrong()
  }
  const problems = passwordProblems(input.newPassword, existing.username, 'body.newPassword')
  if (problems.length) {
    throw AdminErrors.invalid(problems)
  }
  const passwordHash = await hashPassword(input.newPassword)
  return repo.inTransaction(db, async (tx) => {
    const now = deps.clock.nowIso()
    await repo.updateUser(tx, existing.id, { password_hash: passwordHash, updated_at: now })
    const sessionsEnded = await repo.deleteOtherSessionsOfUser(tx, existing.id, input.sessionId)
    await recordAudit(
      { ...deps, db: tx },
      {
        actor: `admin:${existing.id}`,
        action: 'admin.user.password_change',
        target: { type: 'admin_user', id: existing.id },
        after: { sessionsEnded },
        requestId: context.requestId,
      },
    )
    return { sessionsEnded }
  })
}

/**
 * Changes a user's role or enables/disables them. Disabling ends their sessions; a role change
 * applies to their open sessions at once (the role is read per request). The last enabled admin
 * cannot be demoted or disabled: nobody could manage users or keys afterwards.
 */
export async function updateAdminUser(
  deps: AdminDeps & Pick<AppDeps, 'db'>,
  userId: string,
  patch: { role?: AdminRole; disabled?: boolean },
  actor: string,
  context: AuditContext = {},
): Promise<AdminUser> {
  const { db } = deps
  if (patch.role !== undefined) {
    const problems = roleProblems(patch.role)
    if (problems.length) {
      throw AdminErrors.invalid(problems)
    }
  }
  return repo.inTransaction(db, async (tx) => {
    const existing = await findUser({ db: tx }, { userId })
    const role = patch.role ?? existing.role
    const disabled = patch.disabled ?? existing.disabled === 1
    if (role === existing.role && disabled === (existing.disabled === 1)) {
      return toAdminUser(existing, await repo.listMemberships(tx, userId))
    }
    const wasActiveAdmin =
      existing.role === 'admin' && existing.scope === 'platform' && existing.disabled === 0
    if (
      wasActiveAdmin &&
      (role !== 'admin' || disabled) &&
      (await repo.countEnabledAdmins(tx)) <= 1
    ) {
      throw AdminErrors.lastAdmin()
    }
    const row = await repo.updateUser(tx, userId, {
      role,
      disabled: disabled ? 1 : 0,
      updated_at: deps.clock.nowIso(),
    })
    if (!row) {
      throw AdminErrors.userNotFound(userId)
    }
    if (disabled) {
      await repo.deleteSessionsOfUser(tx, userId)
    }
    // A merchant-scoped account's role change applies at every merchant it sees.
    if (row.scope === 'merchant' && role !== existing.role) {
      await repo.setMembershipRoles(tx, userId, role)
    }
    await recordAudit(
      { ...deps, db: tx },
      {
        actor,
        action: 'admin.user.update',
        target: { type: 'admin_user', id: userId },
        before: { role: existing.role, disabled: existing.disabled === 1 },
        after: { role, disabled },
        requestId: context.requestId,
      },
    )
    return toAdminUser(row, await repo.listMemberships(tx, userId))
  })
}

/** Every admin user, by username. */
export async function listAdminUsers(deps: Pick<AppDeps, 'db'>): Promise<AdminUser[]> {
  const { db } = deps
  const memberships = await repo.listMemberships(db)
  return (await repo.listUsers(db)).map((row) =>
    toAdminUser(
      row,
      memberships.filter((m) => m.user_id === row.id),
    ),
  )
}

export async function getAdminUser(
  deps: Pick<AppDeps, 'db'>,
  userId: string,
): Promise<AdminUser | undefined> {
  const { db } = deps
  const row = await repo.findUserById(db, userId)
  return row && toAdminUser(row, await repo.listMemberships(db, userId))
}

interface Backoff {
  failures: number
  lockedUntil?: string
}
/** Failed sign-ins per `userId|ip`, per database handle (one process; tests use many handles). */
const backoffs = new WeakMap<object, Map<string, Backoff>>()
/** Bounds the memory an attacker cycling addresses can take; the oldest entries go first. */
const MAX_BACKOFF_ENTRIES = 10_000

function backoffOf(deps: Pick<AppDeps, 'db'>): Map<string, Backoff> {
  const { db } = deps
  let store = backoffs.get(db)
  if (!store) {
    store = new Map()
    backoffs.set(db, store)
  }
  return store
}

function remember(store: Map<string, Backoff>, key: string, value: Backoff): void {
  store.delete(key)
  store.set(key, value)
  if (store.size > MAX_BACKOFF_ENTRIES) {
    const oldest = store.keys().next().value
    if (oldest !== undefined) {
      store.delete(oldest)
    }
  }
}

function forgetUser(deps: Pick<AppDeps, 'db'>, userId: string): void {
  const store = backoffOf(deps)
  for (const key of store.keys()) {
    if (key.startsWith(`${userId}|`)) {
      store.delete(key)
    }
  }
}

/**
 * Checks a username and password and opens a session. Throws AUTH_INVALID_CREDENTIALS (unknown
 * user or wrong password, alike), AUTH_LOCKED (after {@link MAX_FAILED_LOGINS} failures, for
 * {@link LOCKOUT_MS}), AUTH_DISABLED (right password, disabled account).
 */
export async function login(
  deps: AdminDeps & Pick<AppDeps, 'db'>,
  input: { username: string; password: string; ip?: string },
): Promise<LoginResult> {
  const { db } = deps
  const username = normalizeUsername(input.username)
  const row = USERNAME.test(username) ? await repo.findUserByUsername(db, username) : undefined
  if (!row) {
    await burnVerify(input.password)
    throw AdminErrors.invalidCredentials()
  }
  const started = deps.clock.nowIso()
  // The back-off is per account and IP: guesses from one address must not lock the owner out
  // when signing in from another (the route's per-IP limit caps guessing itself).
  const store = backoffOf(deps)
  const key = `${row.id}|${input.ip ?? ''}`
  const entry = store.get(key)
  if (entry?.lockedUntil && entry.lockedUntil > started) {
    throw AdminErrors.locked(entry.lockedUntil)
  }

  if (!(await verifyPassword(row.password_hash, input.password))) {
    const now = deps.clock.nowIso()
    // The account-wide counter stays as a record for admins; it no longer locks anyone.
    await repo.addFailedLogin(db, row.id, now)
    const failures = (entry && !entry.lockedUntil ? entry.failures : 0) + 1
    if (failures < MAX_FAILED_LOGINS) {
      remember(store, key, { failures })
      throw AdminErrors.invalidCredentials()
    }
    const lockedUntil = addMs(now, LOCKOUT_MS)
    remember(store, key, { failures: 0, lockedUntil })
    await repo.inTransaction(db, async (tx) => {
      // The counter restarts, so the next lock needs another full run of failures after this one ends.
      await repo.updateUser(tx, row.id, {
        failed_logins: 0,
        locked_until: lockedUntil,
        updated_at: now,
      })
      await recordAudit(
        { ...deps, db: tx },
        {
          actor: 'system',
          action: 'admin.user.lock',
          target: { type: 'admin_user', id: row.id },
          before: { lockedUntil: row.locked_until },
          after: { lockedUntil, failedLogins: failures, ip: input.ip ?? null },
        },
      )
    })
    throw AdminErrors.locked(lockedUntil)
  }
  if (row.disabled === 1) {
    throw AdminErrors.disabled()
  }

  store.delete(key)
  const now = deps.clock.nowIso()
  if (row.failed_logins !== 0 || row.locked_until !== null) {
    await repo.updateUser(db, row.id, { failed_logins: 0, locked_until: null, updated_at: now })
  }
  await repo.deleteExpiredSessions(db, now)
  const sessionToken = randomBytes(32).toString('base64url')
  const expiresAt = addMs(now, SESSION_TTL_MS)
  const sessionId = deps.ids.next('ses')
  await repo.insertSession(db, {
    id: sessionId,
    user_id: row.id,
    token_hash: sha256(sessionToken),
    ip: input.ip ?? null,
    created_at: now,
    last_seen_at: now,
    expires_at: expiresAt,
  })
  return {
    principal: {
      userId: row.id,
      username: row.username,
      role: row.role,
      scope: row.scope,
      merchants: row.scope === 'merchant' ? accessOf(await repo.listMemberships(db, row.id)) : [],
      sessionId,
    },
    sessionToken,
    csrfToken: csrfTokenFor(sessionToken),
    expiresAt,
  }
}

/**
 * The principal of a session token, or undefined when the token is unknown, expired or belongs to
 * a disabled user. Each use moves the expiry to {@link SESSION_TTL_MS} from now.
 */
export async function authenticate(
  deps: AdminDeps & Pick<AppDeps, 'db'>,
  sessionToken: string,
): Promise<(AdminPrincipal & { csrfToken: string; expiresAt: string }) | undefined> {
  const { db } = deps
  if (!SESSION_TOKEN.test(sessionToken)) {
    return undefined
  }
  const row = await repo.findSessionWithUser(db, sha256(sessionToken))
  if (!row) {
    return undefined
  }
  const now = deps.clock.now()
  const nowIso = now.toISOString()
  if (row.expires_at <= nowIso || row.disabled === 1) {
    await repo.deleteSessionById(db, row.id)
    return undefined
  }
  let expiresAt = row.expires_at
  if (now.getTime() - new Date(row.last_seen_at).getTime() >= TOUCH_EVERY_MS) {
    expiresAt = addMs(nowIso, SESSION_TTL_MS)
    await repo.touchSession(db, row.id, nowIso, expiresAt)
  }
  const merchants =
    row.scope === 'merchant' ? accessOf(await repo.listMemberships(db, row.user_id)) : []
  return {
    userId: row.user_id,
    username: row.username,
    role: row.role,
    scope: row.scope,
    merchants,
    sessionId: row.id,
    csrfToken: csrfTokenFor(sessionToken),
    expiresAt,
  }
}

/** Ends the session of this token; a no-op for an unknown one. */
export async function logout(deps: Pick<AppDeps, 'db'>, sessionToken: string): Promise<void> {
  const { db } = deps
  if (!SESSION_TOKEN.test(sessionToken)) {
    return
  }
  await repo.deleteSessionByTokenHash(db, sha256(sessionToken))
}

/** How many open sessions a user has (expired ones not yet swept included). */
export function countAdminSessions(deps: Pick<AppDeps, 'db'>, userId: string): Promise<number> {
  const { db } = deps
  return repo.countSessionsOfUser(db, userId)
}
