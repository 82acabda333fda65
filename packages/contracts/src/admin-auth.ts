import { Type, type Static } from '@sinclair/typebox'

/** A console role: `admin` manages settings, keys and users; `operator` templates and members; `viewer` reads. */
export const AdminRoleName = Type.Union(
  [Type.Literal('admin'), Type.Literal('operator'), Type.Literal('viewer')],
  {
    description: 'admin: settings, keys, users; operator: templates and members; viewer: read only',
  },
)
export type AdminRoleName = Static<typeof AdminRoleName>

/** A permission a console route can require (`area.verb`). */
export const AdminPermission = Type.Union(
  [
    Type.Literal('settings.read'),
    Type.Literal('settings.write'),
    Type.Literal('keys.read'),
    Type.Literal('keys.write'),
    Type.Literal('templates.read'),
    Type.Literal('templates.write'),
    Type.Literal('templates.publish'),
    Type.Literal('members.read'),
    Type.Literal('members.write'),
    Type.Literal('users.manage'),
    Type.Literal('audit.read'),
  ],
  { description: 'area.verb, e.g. templates.publish' },
)
export type AdminPermission = Static<typeof AdminPermission>

/** `POST /api/auth/login` body. */
export const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
)
export type LoginBody = Static<typeof LoginBody>

/** The signed-in user as the console shows it. */
export const SessionUser = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: AdminRoleName,
})
export type SessionUser = Static<typeof SessionUser>

/** `POST /api/auth/login` answer; the session itself travels in the httpOnly `kaguan_session` cookie. */
export const LoginResponse = Type.Object({
  user: SessionUser,
  csrfToken: Type.String({
    description: 'Send as the x-csrf-token header on every POST/PUT/PATCH/DELETE',
  }),
  expiresAt: Type.String({
    format: 'date-time',
    description: 'When the session ends without further requests (sliding)',
  }),
})
export type LoginResponse = Static<typeof LoginResponse>

/** Whether an account sees every merchant (`platform`, the ISV's staff) or only some (`merchant`). */
export const AdminScopeName = Type.Union([Type.Literal('platform'), Type.Literal('merchant')], {
  description: 'platform: every merchant (ISV-wide); merchant: only the merchants listed',
})
export type AdminScopeName = Static<typeof AdminScopeName>

/** A merchant a merchant-scoped account sees, with its role there. */
export const MerchantAccessBody = Type.Object(
  { merchantId: Type.String({ minLength: 1 }), role: AdminRoleName },
  { additionalProperties: false },
)
export type MerchantAccessBody = Static<typeof MerchantAccessBody>

/** `GET /api/auth/me` answer. */
export const MeResponse = Type.Object({
  user: SessionUser,
  scope: AdminScopeName,
  merchants: Type.Array(
    Type.Object({
      merchantId: Type.String(),
      role: AdminRoleName,
      permissions: Type.Array(AdminPermission),
    }),
    {
      description: 'Merchant-scoped accounts: the merchants they see, role and permissions at each',
    },
  ),
  csrfToken: Type.String({
    description: 'Send as the x-csrf-token header on every POST/PUT/PATCH/DELETE',
  }),
  permissions: Type.Array(AdminPermission, {
    description: 'What the role allows; the console hides what is not here',
  }),
})
export type MeResponse = Static<typeof MeResponse>

/** An admin account as the user-management page shows it; never a password or hash. */
export const AdminUserBody = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: AdminRoleName,
  scope: AdminScopeName,
  merchants: Type.Array(MerchantAccessBody),
  disabled: Type.Boolean(),
  failedLogins: Type.Integer({ description: 'Failed sign-ins since the last success or lock' }),
  lockedUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'Set while sign-ins are refused',
  }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
})
export type AdminUserBody = Static<typeof AdminUserBody>

/** `GET /api/admin-users` answer. */
export const AdminUserList = Type.Object({ items: Type.Array(AdminUserBody) })
export type AdminUserList = Static<typeof AdminUserList>

/** `POST /api/admin-users` body. */
export const CreateAdminUserBody = Type.Object(
  {
    username: Type.String({
      minLength: 1,
      maxLength: 64,
      description: '3–64 of a-z 0-9 . _ @ -; compared case-insensitively',
    }),
    password: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'At least 10 characters, not the username',
    }),
    role: AdminRoleName,
    merchants: Type.Optional(
      Type.Array(MerchantAccessBody, {
        minItems: 1,
        maxItems: 200,
        description:
          'Makes a merchant-scoped account that sees only these merchants, with a role at each; omit for a platform (ISV-wide) admin',
      }),
    ),
  },
  { additionalProperties: false },
)
export type CreateAdminUserBody = Static<typeof CreateAdminUserBody>

/** `PATCH /api/admin-users/:id` body: change the role, disable or enable. */
export const UpdateAdminUserBody = Type.Object(
  {
    role: Type.Optional(AdminRoleName),
    disabled: Type.Optional(
      Type.Boolean({ description: 'A disabled user cannot sign in; their sessions end' }),
    ),
  },
  { additionalProperties: false },
)
export type UpdateAdminUserBody = Static<typeof UpdateAdminUserBody>

/** `POST /api/admin-users/:id/reset-password` body. */
export const ResetPasswordBody = Type.Object(
  {
    password: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'At least 10 characters, not the username',
    }),
  },
  { additionalProperties: false },
)
export type ResetPasswordBody = Static<typeof ResetPasswordBody>

/** `:id` of the admin-user routes. */
export const AdminUserParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })
export type AdminUserParams = Static<typeof AdminUserParams>

/** `POST /api/auth/password` body: the signed-in user changes their own password. */
export const ChangePasswordBody = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: 256 }),
    newPassword: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'At least 10 characters, not the username',
    }),
  },
  { additionalProperties: false },
)
export type ChangePasswordBody = Static<typeof ChangePasswordBody>
