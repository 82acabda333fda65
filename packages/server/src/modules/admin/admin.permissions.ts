/** The roles an admin user can have, from most to least powerful. */
export const AdminRoles = ['admin', 'operator', 'viewer'] as const
export type AdminRole = (typeof AdminRoles)[number]

/** Every permission a route can require; `read`/`write` pairs per area of the console. */
export const Permissions = [
  'settings.read',
  'settings.write',
  'keys.read',
  'keys.write',
  'templates.read',
  'templates.write',
  'templates.publish',
  'members.read',
  'members.write',
  'users.manage',
  'audit.read',
] as const
export type Permission = (typeof Permissions)[number]

/**
 * Who may do what. Written out per role rather than derived from a hierarchy, so that a reviewer
 * reads the whole policy in one place and a new permission must be granted deliberately.
 */
const GRANTS: Readonly<Record<AdminRole, ReadonlySet<Permission>>> = {
  admin: new Set(Permissions),
  operator: new Set<Permission>([
    'settings.read',
    'templates.read',
    'templates.write',
    'templates.publish',
    'members.read',
    'members.write',
  ]),
  viewer: new Set<Permission>(['settings.read', 'templates.read', 'members.read']),
}

/** Whether `role` grants `permission`. Unknown roles (a row edited by hand) grant nothing. */
export function can(role: AdminRole, permission: Permission): boolean {
  return GRANTS[role]?.has(permission) ?? false
}

/** The permissions `role` grants, in the order of {@link Permissions}; what the console shows and hides. */
export function permissionsOf(role: AdminRole): Permission[] {
  return Permissions.filter((p) => can(role, p))
}

export function isAdminRole(value: unknown): value is AdminRole {
  return typeof value === 'string' && (AdminRoles as readonly string[]).includes(value)
}
