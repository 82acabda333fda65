import { invalidFields } from '../../shared/errors.js'

/** The errors of the audit module. */
export const AuditErrors = {
  /** A time filter that is neither a day nor an instant. */
  badTime: (field: 'from' | 'to', value: string) =>
    invalidFields('REQUEST_INVALID', [
      {
        field: `querystring.${field}`,
        message: `"${value}" is not a day (YYYY-MM-DD, China time) or an ISO-8601 date-time`,
      },
    ]),
  /** `from` after `to`: nothing can match, and the caller most likely swapped them. */
  emptyRange: () =>
    invalidFields('REQUEST_INVALID', [{ field: 'querystring.from', message: 'is after to' }]),
}
