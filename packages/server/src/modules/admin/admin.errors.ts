import { AppError, ErrorKind, invalidFields, type FieldProblem } from '../../shared/errors.js'
import type { Permission } from './admin.permissions.js'

/** The admin and auth error catalogue: every throw site gets the same code, kind and details. */
export const AdminErrors = {
  authRequired: () =>
    new AppError(ErrorKind.Unauthenticated, 'AUTH_REQUIRED', 'sign in first: no valid session'),
  // One message for an unknown user and a wrong password, so the answer does not reveal usernames.
  invalidCredentials: () =>
    new AppError(
      ErrorKind.Unauthenticated,
      'AUTH_INVALID_CREDENTIALS',
      'wrong username or password',
    ),
  locked: (lockedUntil: string) =>
    new AppError(
      ErrorKind.TooMany,
      'AUTH_LOCKED',
      `account locked after repeated failed sign-ins until ${lockedUntil}`,
      { lockedUntil },
    ),
  disabled: () =>
    new AppError(
      ErrorKind.Forbidden,
      'AUTH_DISABLED',
      'this account is disabled; ask an admin to enable it',
    ),
  forbidden: (permission: Permission) =>
    new AppError(
      ErrorKind.Forbidden,
      'AUTH_FORBIDDEN',
      `your role lacks the permission "${permission}"`,
      { permission },
    ),
  csrfInvalid: () =>
    new AppError(
      ErrorKind.Forbidden,
      'AUTH_CSRF_INVALID',
      'missing or wrong x-csrf-token header; use the csrfToken from /api/auth/me',
    ),
  usernameTaken: (username: string) =>
    new AppError(
      ErrorKind.Conflict,
      'ADMIN_USERNAME_TAKEN',
      `username "${username}" is already taken`,
      { username },
    ),
  userNotFound: (ref: string) =>
    new AppError(ErrorKind.NotFound, 'ADMIN_USER_NOT_FOUND', `no admin user ${ref}`),
  lastAdmin: () =>
    new AppError(
      ErrorKind.Conflict,
      'ADMIN_LAST_ADMIN',
      'this is the last enabled admin; make another admin first',
    ),
  // A 400 rather than a 401: the session is fine, one field of the form is not.
  currentPasswordWrong: () =>
    invalidFields('AUTH_CURRENT_PASSWORD_WRONG', [
      { field: 'body.currentPassword', message: 'is not your current password' },
    ]),
  invalid: (problems: FieldProblem[]) => invalidFields('REQUEST_INVALID', problems),
  // Tenancy. A 404 rather than a 403 for another merchant's things: the answer for a merchant (or
  // template, card, claim link) of someone else is the same as for one that does not exist.
  merchantNotVisible: (merchantId: string) =>
    new AppError(
      ErrorKind.NotFound,
      'TENANCY_MERCHANT_NOT_VISIBLE',
      `no merchant "${merchantId}" among the merchants your account may see`,
      { merchantId },
    ),
  resourceNotVisible: (kind: string, id: string) =>
    new AppError(
      ErrorKind.NotFound,
      'TENANCY_RESOURCE_NOT_VISIBLE',
      `no ${kind} "${id}" among the merchants your account may see`,
      { kind, id },
    ),
  platformOnly: () =>
    new AppError(
      ErrorKind.Forbidden,
      'TENANCY_PLATFORM_ONLY',
      'only a platform (ISV-wide) admin may do this; your account is scoped to merchants',
    ),
  merchantRequired: (field: string) =>
    invalidFields('REQUEST_INVALID', [
      {
        field,
        message: 'is required: your account sees several merchants, name the one you mean',
      },
    ]),
} as const
