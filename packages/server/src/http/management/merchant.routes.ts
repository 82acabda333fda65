import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import {
  AlipayAppBody,
  AppKeyStageBody,
  CrmKeyAddBody,
  CrmTokenIssueBody,
  CrmTokenIssued,
  KeyCustodyView,
  AuditEntryView,
  CrmBody,
  CrmTestResult,
  ErrorBody,
  ImageUploadBody,
  ImageView,
  MerchantCreateBody,
  MerchantView,
  MessageChannelBody,
  PageQuery,
  Paged,
  PublicUrlBody,
  ReconcileBody,
  ReconcileJobView,
  ShopBody,
  ShopView,
} from '@kaguan/contracts'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../../deps.js'
import { AdminErrors, can, roleAt } from '../../modules/admin/index.js'
import { searchAudit } from '../../modules/audit/index.js'
import { getReconcileJob, startReconcileJob } from '../../modules/cards/index.js'
import { testCrmConnection } from '../../modules/crm/index.js'
import { outboxCounts, OutboxStatus, pageOutbox, retryParked } from '../../modules/outbox/index.js'
import * as merchants from '../../modules/merchants/index.js'
import * as shops from '../../modules/shops/index.js'
import { listImages, uploadImage } from '../../modules/templates/index.js'
import { pageInMemory, pageRequest } from '../../shared/paging.js'
import { actorOf } from './actor.js'
import { requirePermission } from './auth.js'

const MerchantParams = Type.Object({ merchantId: Type.String({ minLength: 1 }) })
const Errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody }

/** Keys are admin business: others see the merchant without even the keys' fingerprints. */
function forRole(
  view: merchants.MerchantView,
  role: Parameters<typeof can>[0],
): merchants.MerchantView {
  if (can(role, 'keys.read')) {
    return view
  }
  return {
    ...view,
    alipay: { ...view.alipay, privateKeyFingerprint: null, alipayPublicKeyFingerprint: null },
    crm: { ...view.crm, publicKeyFingerprint: null },
  }
}

export function registerMerchantRoutes(root: FastifyInstance, deps: AppDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const db = deps.db
  const tags = ['merchants']

  app.get(
    '/api/merchants',
    {
      config: { tenancy: 'list' },
      preValidation: requirePermission('settings.read'),
      schema: {
        summary: 'List merchants',
        tags,
        description:
          'The merchants the account sees (all of them for a platform admin; an ISV runs several), paged.',
        querystring: Type.Object(PageQuery(['name', 'createdAt'])),
        response: { 200: Paged(MerchantView), ...Errors },
      },
    },
    async (req) =>
      pageInMemory(
        (await merchants.listMerchants(deps)).flatMap((m) => {
          // Tenancy: only the merchants the account sees, each shown with its role there.
          const role = roleAt(req.principal!, m.id)
          return role ? [forRole(m, role)] : []
        }),
        pageRequest(req.query, { sort: 'createdAt', order: 'asc' }),
        { name: (m) => m.name, createdAt: (m) => m.createdAt },
      ),
  )
  app.post(
    '/api/merchants',
    {
      preValidation: requirePermission('settings.write'),
      schema: {
        summary: 'Create a merchant',
        tags,
        description: 'Add a merchant (ISV). Platform admins only.',
        body: MerchantCreateBody,
        response: { 201: MerchantView, ...Errors },
      },
    },
    async (req, reply) =>
      reply.code(201).send(await merchants.createMerchant(deps, req.body, actorOf(req))),
  )
  app.get(
    '/api/merchants/:merchantId',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('settings.read'),
      schema: {
        summary: 'Get a merchant',
        tags,
        description:
          'One merchant with its Alipay app (fingerprints only), public URL and CRM settings.',
        params: MerchantParams,
        response: { 200: MerchantView, ...Errors },
      },
    },
    async (req) =>
      forRole(await merchants.getMerchant(deps, req.params.merchantId), req.principal!.role),
  )
  app.put(
    '/api/merchants/:merchantId/alipay',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('keys.write'),
      schema: {
        summary: 'Set the Alipay app',
        tags,
        description:
          "Set the merchant's Alipay app: app id, keys (stored encrypted, never returned), gateway, ISV app_auth_token.",
        params: MerchantParams,
        body: AlipayAppBody,
        response: { 200: MerchantView, ...Errors },
      },
    },
    async (req) => merchants.updateAlipayApp(deps, req.params.merchantId, req.body, actorOf(req)),
  )
  app.put(
    '/api/merchants/:merchantId/public-url',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('settings.write'),
      schema: {
        summary: 'Set the public URL',
        tags,
        description:
          'Set the public base URL of the mini role; with an Alipay gateway it must be public https.',
        params: MerchantParams,
        body: PublicUrlBody,
        response: { 200: MerchantView, ...Errors },
      },
    },
    async (req) =>
      forRole(
        await merchants.updatePublicBaseUrl(
          deps,
          req.params.merchantId,
          req.body.publicBaseUrl,
          actorOf(req),
        ),
        req.principal!.role,
      ),
  )
  app.put(
    '/api/merchants/:merchantId/message-channel',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('settings.write'),
      schema: {
        summary: 'Set the message channel',
        tags,
        description:
          "How Alipay's subscribed messages reach kaguan: `http` (the app gateway, 应用网关) or `websocket` (the long connection, 长连接, kept by a worker). Match the app's subscription in the Alipay open platform. Audited.",
        params: MerchantParams,
        body: MessageChannelBody,
        response: { 200: MerchantView, ...Errors },
      },
    },
    async (req) =>
      forRole(
        await merchants.updateMessageChannel(
          deps,
          req.params.merchantId,
          req.body.channel,
          actorOf(req),
        ),
        req.principal!.role,
      ),
  )
  app.put(
    '/api/merchants/:merchantId/crm',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('settings.write'),
      schema: {
        summary: 'Set the business system (CRM)',
        tags,
        description:
          'Set the business system: none (kaguan is the member system) or crm with base URL, token and CRM public key (the latter two need keys.write).',
        params: MerchantParams,
        body: CrmBody,
        response: { 200: MerchantView, ...Errors },
      },
    },
    async (req) => {
      if (
        (req.body.token !== undefined || req.body.publicKey !== undefined) &&
        !can(req.principal!.role, 'keys.write')
      ) {
        throw AdminErrors.forbidden('keys.write')
      }
      return forRole(
        await merchants.updateCrm(deps, req.params.merchantId, req.body, actorOf(req)),
        req.principal!.role,
      )
    },
  )
  app.post(
    '/api/merchants/:merchantId/crm/test',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('settings.write'),
      schema: {
        summary: 'Test the CRM',
        tags,
        description:
          "Run the CRM conformance check (the rows of `kaguan crm-check`) against the saved connection, with the merchant's level codes and replay mode; each failed or warned row carries its fix. 409 CRM_NOT_CONFIGURED when CRM mode is off or incomplete.",
        params: MerchantParams,
        response: { 200: CrmTestResult, ...Errors },
      },
    },
    async (req) => testCrmConnection(deps, req.params.merchantId),
  )

  registerKeyRoutes(app, deps)

  const ShopParams = Type.Object({ merchantId: Type.String(), shopId: Type.String() })
  app.get(
    '/api/merchants/:merchantId/shops',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('settings.read'),
      schema: {
        summary: 'List shops',
        tags: ['shops'],
        description:
          'Shops (门店), paged. A shop without an Alipay shop id is not shown on the card.',
        params: MerchantParams,
        querystring: Type.Object(PageQuery(['name', 'alipayShopId'])),
        response: { 200: Paged(ShopView), ...Errors },
      },
    },
    async (req) =>
      pageInMemory(
        await shops.listShops(deps, (await merchants.getMerchant(deps, req.params.merchantId)).id),
        pageRequest(req.query, { sort: 'name', order: 'asc' }),
        { name: (s) => s.name, alipayShopId: (s) => s.alipayShopId ?? null },
      ),
  )
  app.post(
    '/api/merchants/:merchantId/shops',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('settings.write'),
      schema: {
        summary: 'Create a shop',
        tags: ['shops'],
        description: 'Add a shop.',
        params: MerchantParams,
        body: ShopBody,
        response: { 201: ShopView, ...Errors },
      },
    },
    async (req, reply) => {
      await merchants.getMerchant(deps, req.params.merchantId)
      return reply
        .code(201)
        .send(await shops.createShop(deps, req.params.merchantId, req.body, actorOf(req)))
    },
  )
  app.put(
    '/api/merchants/:merchantId/shops/:shopId',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('settings.write'),
      schema: {
        summary: 'Change a shop',
        tags: ['shops'],
        description: 'Change a shop.',
        params: ShopParams,
        body: ShopBody,
        response: { 200: ShopView, ...Errors },
      },
    },
    async (req) =>
      shops.updateShop(deps, req.params.merchantId, req.params.shopId, req.body, actorOf(req)),
  )
  app.delete(
    '/api/merchants/:merchantId/shops/:shopId',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('settings.write'),
      schema: {
        summary: 'Delete a shop',
        tags: ['shops'],
        description: 'Remove a shop.',
        params: ShopParams,
        response: { 204: Type.Null(), ...Errors },
      },
    },
    async (req, reply) => {
      await shops.deleteShop(deps, req.params.merchantId, req.params.shopId, actorOf(req))
      return reply.code(204).send(null)
    },
  )

  app.get(
    '/api/merchants/:merchantId/images',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('templates.read'),
      schema: {
        summary: 'List uploaded images',
        tags: ['images'],
        description: 'Images uploaded to Alipay for card styles, paged.',
        params: MerchantParams,
        querystring: Type.Object(PageQuery(['createdAt', 'name'])),
        response: { 200: Paged(ImageView), ...Errors },
      },
    },
    async (req) =>
      pageInMemory(
        await listImages(deps, req.params.merchantId),
        pageRequest(req.query, { sort: 'createdAt', order: 'desc' }),
        { createdAt: (i) => i.createdAt, name: (i) => i.name },
      ),
  )
  app.post(
    '/api/merchants/:merchantId/images',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('templates.write'),
      bodyLimit: 5 * 1024 * 1024,
      schema: {
        summary: 'Upload an image',
        tags: ['images'],
        description:
          'Upload an image (logo, background) to Alipay (alipay.offline.material.image.upload).',
        params: MerchantParams,
        body: ImageUploadBody,
        response: { 201: ImageView, ...Errors, 503: ErrorBody },
      },
    },
    async (req, reply) => {
      await merchants.getMerchant(deps, req.params.merchantId)
      const image = await uploadImage(
        deps,
        req.params.merchantId,
        {
          name: req.body.name,
          type: req.body.type,
          content: Buffer.from(req.body.contentBase64, 'base64'),
        },
        actorOf(req),
      )
      return reply.code(201).send(image)
    },
  )

  app.get(
    '/api/outbox',
    {
      config: { tenancy: 'query' },
      preValidation: requirePermission('settings.read'),
      schema: {
        summary: 'List deliveries (outbox)',
        tags: ['operations'],
        description:
          'Deliveries to Alipay and the CRM: counts by status (of the merchant when given), and a page of the entries of one status (parked by default: they failed for good, with the reason).',
        querystring: Type.Object({
          status: Type.Optional(
            Type.Union(Object.values(OutboxStatus).map((s) => Type.Literal(s))),
          ),
          merchantId: Type.Optional(Type.String()),
          topic: Type.Optional(Type.String({ minLength: 1 })),
          ...PageQuery(['createdAt', 'updatedAt', 'attempts', 'nextAttemptAt']),
        }),
      },
    },
    async (req) => {
      const { page, pageSize, sort, order, status, merchantId, topic } = req.query
      return {
        counts: await outboxCounts(deps, merchantId),
        ...(await pageOutbox(
          { db },
          {
            status: status ?? OutboxStatus.Parked,
            ...(merchantId ? { merchantId } : {}),
            ...(topic ? { topic } : {}),
          },
          pageRequest({ page, pageSize, sort, order }, { sort: 'createdAt', order: 'desc' }),
        )),
      }
    },
  )
  app.post(
    '/api/outbox/retry',
    {
      preValidation: requirePermission('settings.write'),
      schema: {
        summary: 'Retry parked deliveries',
        tags: ['operations'],
        description: 'Deliver parked entries again once the cause is fixed.',
        body: Type.Union([
          Type.Object({ ids: Type.Array(Type.String(), { minItems: 1 }) }),
          Type.Object({ all: Type.Literal(true) }),
        ]),
      },
    },
    async (req) => ({
      retried: await retryParked(deps, 'all' in req.body ? 'all' : req.body.ids),
    }),
  )

  app.post(
    '/api/merchants/:merchantId/reconcile',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('settings.write'),
      schema: {
        tags: ['operations'],
        summary: 'Start reconciling cards with Alipay',
        description:
          "Starts a job that compares the merchant's active cards with alipay.marketing.card.query and repairs drift: cards Alipay no longer shows are deleted here (and the CRM told), cards whose points, level or balance differ are pushed again. Answers 202 at once with the job; poll `GET …/reconcile/{jobId}` for progress and the report. One job per merchant at a time: while one runs, this answers that job and starts nothing. Jobs live in the management process (lost on restart). `limit` checks only the first cards (by id).",
        params: MerchantParams,
        body: ReconcileBody,
        response: { 202: ReconcileJobView, ...Errors, 503: ErrorBody },
      },
    },
    async (req, reply) => {
      const merchant = await merchants.getMerchant(deps, req.params.merchantId)
      const { job } = await startReconcileJob(
        deps,
        merchant.id,
        req.body.limit === undefined ? {} : { limit: req.body.limit },
      )
      reply.header('location', `/api/merchants/${merchant.id}/reconcile/${job.jobId}`)
      return reply.code(202).send(job)
    },
  )
  app.get(
    '/api/merchants/:merchantId/reconcile/:jobId',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('settings.write'),
      schema: {
        tags: ['operations'],
        summary: 'Follow a reconcile job',
        description:
          'The job: `status` running, done or failed; `checked` of `total` cards so far; `report` (drifts found and repaired) once done; `error` once failed. RECONCILE_JOB_NOT_FOUND (404) when this process does not know the job (it restarted): start again.',
        params: Type.Object({
          merchantId: Type.String({ minLength: 1 }),
          jobId: Type.String({ minLength: 1, maxLength: 64 }),
        }),
        response: { 200: ReconcileJobView, ...Errors },
      },
    },
    async (req) => getReconcileJob(deps, req.params.merchantId, req.params.jobId),
  )
  app.get(
    '/api/audit',
    {
      config: { tenancy: 'query' },
      preValidation: requirePermission('audit.read'),
      schema: {
        tags: ['audit'],
        summary: 'Search the audit log',
        description:
          'Audit entries (secrets elided), newest first, paged. Filters: merchantId; actor (`admin:<id>`, `cli`, `system`); action (`template.publish`, or `template` for all its actions); object (`card:crd_…`, or a type or id alone); from/to (a China-time day `YYYY-MM-DD`, or an ISO date-time; to is exclusive).',
        querystring: Type.Object({
          merchantId: Type.Optional(Type.String({ minLength: 1 })),
          actor: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
          action: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
          object: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
          from: Type.Optional(Type.String({ minLength: 10, maxLength: 40 })),
          to: Type.Optional(Type.String({ minLength: 10, maxLength: 40 })),
          ...PageQuery(['createdAt']),
        }),
        response: { 200: Paged(AuditEntryView), ...Errors },
      },
    },
    async (req) => {
      const { page, pageSize, sort, order, ...filter } = req.query
      return searchAudit(
        { db },
        filter,
        pageRequest({ page, pageSize, sort, order }, { sort: 'createdAt', order: 'desc' }),
      )
    },
  )
}

/**
 * Key custody (issue 14): each rotation step is a POST that answers the merchant's key view.
 * Reading needs keys.read, every step keys.write; each step is audited by the merchants module.
 */
function registerKeyRoutes(root: FastifyInstance, deps: AppDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['keys']
  const Conflict = { ...Errors, 409: ErrorBody }
  app.get(
    '/api/merchants/:merchantId/keys',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('keys.read'),
      schema: {
        summary: 'Keys and rotations',
        tags,
        description:
          'The app private key, the CRM public key and the CRM token of a merchant, with the rotation of each under way: fingerprints and dates, never a key or token.',
        params: MerchantParams,
        response: { 200: KeyCustodyView, ...Errors },
      },
    },
    async (req) => merchants.keyCustody(deps, req.params.merchantId),
  )
  const step = (
    path: string,
    summary: string,
    description: string,
    run: (
      merchantId: string,
      actor: ReturnType<typeof actorOf>,
    ) => Promise<merchants.KeyCustodyView>,
  ) =>
    app.post(
      `/api/merchants/:merchantId/keys/${path}`,
      {
        config: { tenancy: 'path' },
        preValidation: requirePermission('keys.write'),
        schema: {
          summary,
          tags,
          description,
          params: MerchantParams,
          response: { 200: KeyCustodyView, ...Conflict },
        },
      },
      async (req) => run(req.params.merchantId, actorOf(req)),
    )

  app.post(
    '/api/merchants/:merchantId/keys/app-key',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('keys.write'),
      schema: {
        summary: 'Stage a new app private key',
        tags,
        description:
          'Stage a new app private key (uploaded, or made by kaguan). Calls stay signed with the current key until activate; upload `appKey.next.publicKey` to the Alipay open platform first.',
        params: MerchantParams,
        body: AppKeyStageBody,
        response: { 200: KeyCustodyView, ...Conflict },
      },
    },
    async (req) => merchants.stageAppKey(deps, req.params.merchantId, req.body, actorOf(req)),
  )
  step(
    'app-key/activate',
    'Activate the staged app key',
    'Sign with the staged key from now on and forget the old one: after its public key is uploaded to Alipay.',
    (id, actor) => merchants.activateAppKey(deps, id, actor),
  )
  step(
    'app-key/discard',
    'Discard the staged app key',
    'Drop a staged app key that will not be used; the current key stays.',
    (id, actor) => merchants.discardAppKey(deps, id, actor),
  )
  app.post(
    '/api/merchants/:merchantId/keys/crm-key',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('keys.write'),
      schema: {
        summary: 'Add the CRM’s new public key',
        tags,
        description:
          'Verify CRM calls with the new key from now on, and with the current one too until `overlapHours` pass or the old key is retired.',
        params: MerchantParams,
        body: CrmKeyAddBody,
        response: { 200: KeyCustodyView, ...Conflict },
      },
    },
    async (req) => merchants.addCrmKey(deps, req.params.merchantId, req.body, actorOf(req)),
  )
  step(
    'crm-key/retire-old',
    'Retire the old CRM public key',
    'Stop accepting the replaced CRM public key now, before its window ends.',
    (id, actor) => merchants.retireOldCrmKey(deps, id, actor),
  )
  app.post(
    '/api/merchants/:merchantId/keys/crm-token',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('keys.write'),
      schema: {
        summary: 'Issue a new CRM token',
        tags,
        description:
          'Issue a new token beside the current one; the answer carries it once. kaguan sends the new token first and the old one when the CRM refuses it, until the old is retired.',
        params: MerchantParams,
        body: CrmTokenIssueBody,
        response: { 200: CrmTokenIssued, ...Conflict },
      },
    },
    async (req) => merchants.issueCrmToken(deps, req.params.merchantId, req.body, actorOf(req)),
  )
  step(
    'crm-token/retire-old',
    'Retire the old CRM token',
    'Send only the new token from now on (the CRM has it: `crmToken.next.seenAt` says when it first accepted it).',
    (id, actor) => merchants.retireOldCrmToken(deps, id, actor),
  )
  step(
    'crm-token/discard',
    'Discard the new CRM token',
    'Drop an issued token that will not be used; the current one stays.',
    (id, actor) => merchants.discardCrmToken(deps, id, actor),
  )
}
