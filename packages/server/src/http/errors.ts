import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, ErrorKind, type ErrorKind as Kind } from '../shared/errors.js'

const STATUS: Record<Kind, number> = {
  [ErrorKind.Invalid]: 400,
  [ErrorKind.Unauthenticated]: 401,
  [ErrorKind.Forbidden]: 403,
  [ErrorKind.NotFound]: 404,
  [ErrorKind.Conflict]: 409,
  [ErrorKind.TooMany]: 429,
  [ErrorKind.Unavailable]: 503,
  [ErrorKind.Internal]: 500,
}

export function statusFor(kind: Kind): number {
  return STATUS[kind]
}

/** The JSON error body of kaguan's own APIs: `{ errcode, message, details?, requestId }`. */
export function errorBody(error: AppError, requestId: string) {
  const hasDetails = Object.keys(error.details).length > 0
  return {
    errcode: error.code,
    message: error.message,
    ...(hasDetails ? { details: error.details } : {}),
    requestId,
  }
}

/**
 * Maps any error to an answer: AppError by kind; Fastify's schema validation to 400 REQUEST_INVALID
 * naming the field; anything else to a generic 500 (never a stack trace), logged in full with the
 * request id.
 */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) {
    return error
  }
  const fe = error as FastifyError
  if (fe.validation) {
    const fields = fe.validation.map((v) => {
      const missing = (v.params as { missingProperty?: string }).missingProperty
      const path = [v.instancePath.replace(/^\//, '').replace(/\//g, '.'), missing]
        .filter(Boolean)
        .join('.')
      return {
        field: `${fe.validationContext ?? 'body'}${path ? `.${path}` : ''}`,
        message: v.message ?? 'is invalid',
      }
    })
    return new AppError(
      ErrorKind.Invalid,
      'REQUEST_INVALID',
      fields.map((f) => `${f.field} ${f.message}`).join('; '),
      { fields },
    )
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    const kind = fe.statusCode === 404 ? ErrorKind.NotFound : ErrorKind.Invalid
    return new AppError(
      kind,
      fe.code?.startsWith('FST_') ? 'REQUEST_INVALID' : (fe.code ?? 'REQUEST_INVALID'),
      fe.message,
    )
  }
  return new AppError(
    ErrorKind.Internal,
    'INTERNAL',
    'internal error; the request id is in the server log',
  )
}

/** Maps errors to answers for one surface: logs them, picks the status, shapes the body. */
export function installErrorMapper(
  app: FastifyInstance,
  body: (error: AppError, requestId: string) => object,
): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const appError = toAppError(error)
    if (appError.kind === ErrorKind.Internal) {
      request.log.error({ err: error }, 'request failed')
    } else {
      request.log.info({ errcode: appError.code }, appError.message)
    }
    return reply.code(statusFor(appError.kind)).send(body(appError, request.id))
  })
}

export function installJsonErrorHandler(app: FastifyInstance): void {
  installErrorMapper(app, errorBody)
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(
        errorBody(
          new AppError(
            ErrorKind.NotFound,
            'ROUTE_NOT_FOUND',
            `no route ${request.method} ${request.url.split('?')[0]}`,
          ),
          request.id,
        ),
      ),
  )
}
