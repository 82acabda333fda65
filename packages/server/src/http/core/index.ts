import type { FastifyInstance, FastifyRequest } from 'fastify'
import { parse as parseQuery } from 'node:querystring'
import type { AppDeps } from '../../deps.js'
import {
  adjustPointsIn,
  cardWriteKey,
  changeCardTemplateIn,
  findCardForCrm,
  setCardStateIn,
  verifyDynamicCode,
} from '../../modules/cards/index.js'
import {
  claimNonce,
  releaseNonce,
  verifyCrmCall,
  verifyCrmSignature,
} from '../../modules/crm/index.js'
import { notifyOutbox } from '../../modules/outbox/index.js'
import { AppError, ErrorKind, invalidFields } from '../../shared/errors.js'
import { keepFormBodiesRaw } from '../app.js'
import { installErrorMapper } from '../errors.js'
import { registerStampCoreRoutes } from './stamps.routes.js'

type Params = Record<string, string>

/** Body as flat string parameters, from JSON or a form (the seed allows both). */
function paramsOf(request: FastifyRequest): Params {
  const body = request.body
  const raw: Record<string, unknown> = Buffer.isBuffer(body)
    ? parseQuery(body.toString('utf8'))
    : typeof body === 'object' && body !== null
      ? (body as Record<string, unknown>)
      : {}
  const out: Params = {}
  for (const [key, value] of Object.entries(raw)) {
    if (value === null || value === undefined) {
      continue
    }
    if (typeof value === 'object') {
      throw invalidFields('REQUEST_INVALID', [{ field: key, message: 'must be a string value' }])
    }
    out[key] = String(value)
  }
  return out
}

function required(params: Params, ...fields: string[]): void {
  const missing = fields.filter((f) => !params[f]?.trim())
  if (missing.length) {
    throw invalidFields(
      'REQUEST_INVALID',
      missing.map((field) => ({ field, message: 'is required' })),
    )
  }
}

function wholeNumber(params: Params, field: string, { min = 0 } = {}): number {
  const v = params[field]!.trim()
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(Number(v)) || Number(v) < min) {
    throw invalidFields('REQUEST_INVALID', [
      { field, message: `must be a whole number${min === 0 ? ' ≥ 0' : ''}` },
    ])
  }
  return Number(v)
}

function amount(params: Params, field: string): string | undefined {
  const v = params[field]?.trim()
  if (v === undefined || v === '') {
    return undefined
  }
  if (!/^\d+(\.\d{1,2})?$/.test(v)) {
    throw invalidFields('REQUEST_INVALID', [{ field, message: 'must be an amount like 12.50' }])
  }
  return v
}

/**
 * The CRM-facing `core` role. Every call is RSA2-signed by the merchant's systems and answered the
 * seed's way: `{"status":"OK"}` or `{"status":"FAIL","errmsg":…}`, plus kaguan's `errcode`.
 */
export function registerCore(app: FastifyInstance, deps: AppDeps): void {
  keepFormBodiesRaw(app)
  installErrorMapper(app, (error, requestId) => ({
    status: 'FAIL',
    errmsg: error.message,
    errcode: error.code,
    requestId,
  }))

  const signed =
    (handler: (params: Params, merchantId: string) => Promise<object>) =>
    async (request: FastifyRequest) => {
      const params = paramsOf(request)
      const merchantId = await verifyCrmCall(deps, params)
      try {
        return { status: 'OK', ...(await handler(params, merchantId)) }
      } catch (error) {
        await releaseNonce(deps, merchantId, params.nonce)
        throw error
      }
    }

  /**
   * A signed write (issue 12): the signature is checked and the fields read first; then the
   * nonce is claimed and the change made in one transaction shared with the writes arriving at
   * the same time (group commit, db/group-commit.ts). The answer comes after that commit, so an OK
   * still means the change and its outbox row are durable; a refused change records no nonce.
   */
  const signedWrite =
    <I>(
      read: (params: Params) => I,
      write: (trx: AppDeps, input: I, params: Params, merchantId: string) => Promise<object>,
    ) =>
    async (request: FastifyRequest) => {
      const params = paramsOf(request)
      const { merchantId, nonce } = await verifyCrmSignature(deps, params)
      const input = read(params)
      const result = await deps.writes.run(
        async (db) => {
          const trx = { ...deps, db }
          if (nonce !== undefined) {
            await claimNonce(trx, merchantId, nonce)
          }
          return write(trx, input, params, merchantId)
        },
        // One card's changes share a lane: in arrival order, never in two transactions at once.
        cardWriteKey(merchantId, params.bizCardNo ?? ''),
      )
      // Committed: the worker can push it now rather than at its next poll.
      notifyOutbox()
      return { status: 'OK', ...result }
    }

  app.post(
    '/card/update',
    {
      schema: {
        description:
          "The CRM sets a card's points (and level, balance): signed; pushed to Alipay by the worker.",
      },
    },
    signedWrite(
      (p) => {
        required(p, 'templateId', 'bizCardNo', 'point', 'changeReason')
        return { point: wholeNumber(p, 'point'), balance: amount(p, 'balance') }
      },
      async (trx, { point, balance }, p, merchantId) => {
        const card = await findCardForCrm(trx, p.templateId!, p.bizCardNo!, merchantId, {
          lock: deps.dialect,
        })
        await setCardStateIn(
          trx,
          card,
          {
            point,
            ...(p.level !== undefined && p.level !== '' ? { level: p.level } : {}),
            ...(balance !== undefined ? { balance } : {}),
            reason: p.changeReason!,
            source: 'crm',
            idempotencyKey: p.nonce ? `nonce:${p.nonce}` : `req:${deps.ids.next('upd')}`,
          },
          { locked: true },
        )
        return {}
      },
    ),
  )

  app.post(
    '/card/changeTemplate',
    {
      schema: {
        description: 'The CRM moves a card to another template (e.g. a level card): signed.',
      },
    },
    signedWrite(
      (p) => required(p, 'templateId', 'bizCardNo', 'targetTemplateId', 'changeReason'),
      async (trx, _, p, merchantId) => {
        const card = await findCardForCrm(trx, p.templateId!, p.bizCardNo!, merchantId)
        await changeCardTemplateIn(trx, card, p.targetTemplateId!, p.changeReason!, 'crm')
        return {}
      },
    ),
  )

  app.post(
    '/api/points/adjust',
    {
      schema: {
        description:
          'No-CRM mode: add or take points with an idempotency key (a till, an app): signed.',
      },
    },
    signedWrite(
      (p) => {
        required(p, 'templateId', 'bizCardNo', 'delta', 'idempotencyKey', 'reason')
        const delta = Number(p.delta)
        if (!/^-?\d+$/.test(p.delta!) || !Number.isSafeInteger(delta) || delta === 0) {
          throw invalidFields('REQUEST_INVALID', [
            { field: 'delta', message: 'must be a non-zero whole number' },
          ])
        }
        return delta
      },
      async (trx, delta, p) => {
        const card = await findCardForCrm(trx, p.templateId!, p.bizCardNo!)
        const result = await adjustPointsIn(trx, card, {
          delta,
          reason: p.reason!,
          source: 'api',
          idempotencyKey: p.idempotencyKey!,
        })
        return { card: result.card, replayed: result.replayed }
      },
    ),
  )

  app.post(
    '/api/cards/set',
    { schema: { description: "No-CRM mode: set a card's level and/or balance: signed." } },
    signedWrite(
      (p) => {
        required(p, 'templateId', 'bizCardNo', 'changeReason')
        // Empty values are not signed (the seed's rule), so they must mean nothing here either.
        if (!p.level && !p.balance) {
          throw invalidFields('REQUEST_INVALID', [
            { field: 'level', message: 'give level and/or balance' },
          ])
        }
        return amount(p, 'balance')
      },
      async (trx, balance, p) => {
        const card = await findCardForCrm(trx, p.templateId!, p.bizCardNo!)
        const view = await setCardStateIn(trx, card, {
          ...(p.level ? { level: p.level } : {}),
          ...(balance !== undefined ? { balance } : {}),
          reason: p.changeReason!,
          source: 'api',
          idempotencyKey: p.nonce ? `nonce:${p.nonce}` : `req:${deps.ids.next('upd')}`,
        })
        return { card: view }
      },
    ),
  )

  app.post(
    '/api/cards/query',
    { schema: { description: 'A card by template and card number: signed.' } },
    signed(async (p) => {
      required(p, 'templateId', 'bizCardNo')
      const card = await findCardForCrm(deps, p.templateId!, p.bizCardNo!)
      return {
        card: {
          bizCardNo: card.bizCardNo,
          alipayCardNo: card.alipayCardNo,
          point: card.point,
          level: card.level,
          balance: card.balance,
          status: card.status,
        },
      }
    }),
  )

  app.post(
    '/api/codes/verify',
    {
      schema: {
        description:
          'A till checks a dynamic code kaguan made (valid once, until it expires): signed.',
      },
    },
    signed(async (p, merchantId) => {
      required(p, 'templateId', 'code')
      const card = await verifyDynamicCode(deps, merchantId, p.code!)
      if (card.templateId !== p.templateId) {
        throw new AppError(
          ErrorKind.NotFound,
          'CODE_INVALID',
          'the code belongs to another template',
        )
      }
      return { card }
    }),
  )

  registerStampCoreRoutes(app, deps, signed, required)
}
