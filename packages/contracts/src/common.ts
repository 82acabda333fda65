import { Type, type Static } from '@sinclair/typebox'

/** The JSON body of every error answered by kaguan's admin and core APIs. */
export const ErrorBody = Type.Object({
  errcode: Type.String({
    description: 'Machine-readable code, e.g. CONFIG_INVALID, CRM_SIGNATURE_INVALID',
  }),
  message: Type.String({ description: 'What went wrong, naming the field where one is at fault' }),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  requestId: Type.Optional(Type.String()),
})
export type ErrorBody = Static<typeof ErrorBody>

/** What /healthz and /readyz answer. */
export const HealthBody = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('ready'), Type.Literal('not_ready')]),
  role: Type.String(),
  checks: Type.Optional(Type.Record(Type.String(), Type.String())),
})
export type HealthBody = Static<typeof HealthBody>
