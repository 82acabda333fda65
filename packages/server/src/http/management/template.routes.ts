import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import {
  CrmLevelCheck,
  ClaimLinkBody,
  ClaimLinkView,
  ComponentBody,
  ComponentView,
  ErrorBody,
  PageQuery,
  Paged,
  PublishResult,
  TemplateCreateBody,
  TemplateSpec,
  TemplateView,
  WalletPreview,
} from '@kaguan/contracts'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../../deps.js'
import { checkCrmLevels } from '../../modules/crm/index.js'
import * as merchants from '../../modules/merchants/index.js'
import * as templates from '../../modules/templates/index.js'
import { pageInMemory, pageRequest } from '../../shared/paging.js'
import { actorOf } from './actor.js'
import { requirePermission } from './auth.js'

const Errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody }
const MerchantParams = Type.Object({ merchantId: Type.String({ minLength: 1 }) })
const TemplateParams = Type.Object({ templateId: Type.String({ minLength: 1 }) })
const tags = ['templates']

function linkView(link: templates.ClaimLink) {
  return {
    ...link,
    qrSvgUrl: `/api/claim-links/${link.id}/qr.svg`,
    qrPngUrl: `/api/claim-links/${link.id}/qr.png`,
  }
}

export function registerTemplateRoutes(root: FastifyInstance, deps: AppDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/api/merchants/:merchantId/templates',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('templates.read'),
      schema: {
        summary: 'List card templates',
        tags,
        description:
          'Card templates of a merchant, paged, with their status (draft, published, changed since publish).',
        params: MerchantParams,
        querystring: Type.Object(PageQuery(['updatedAt', 'createdAt', 'name', 'status'])),
        response: { 200: Paged(TemplateView), ...Errors },
      },
    },
    async (req) =>
      pageInMemory(
        await templates.listTemplates(deps, req.params.merchantId),
        pageRequest(req.query, { sort: 'updatedAt', order: 'desc' }),
        {
          updatedAt: (t) => t.updatedAt,
          createdAt: (t) => t.createdAt,
          name: (t) => t.spec.basic.name,
          status: (t) => t.status,
        },
      ),
  )
  app.post(
    '/api/merchants/:merchantId/templates',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('templates.write'),
      schema: {
        summary: 'Create a card template',
        tags,
        description:
          'Create a draft template; every field is checked (images uploaded, shops known, levels defined) before anything reaches Alipay.',
        params: MerchantParams,
        body: TemplateCreateBody,
        response: { 201: TemplateView, ...Errors },
      },
    },
    async (req, reply) => {
      await merchants.getMerchant(deps, req.params.merchantId)
      return reply
        .code(201)
        .send(
          await templates.createTemplate(deps, req.params.merchantId, req.body.spec, actorOf(req)),
        )
    },
  )
  app.get(
    '/api/merchants/:merchantId/templates/:templateId/preview',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('templates.read'),
      schema: {
        tags,
        summary: 'Preview a template as the wallet shows it',
        description:
          "What the Alipay wallet would show for the saved draft: the mapping publishing sends (card name, colours as rgb, columns with sample values, actions, levels, validity, code type), the images' addresses, the shops listed and those left out with why.",
        params: Type.Object({
          merchantId: Type.String({ minLength: 1 }),
          templateId: Type.String({ minLength: 1 }),
        }),
        response: { 200: WalletPreview, ...Errors },
      },
    },
    async (req) => templates.templatePreview(deps, req.params.merchantId, req.params.templateId),
  )
  app.post(
    '/api/merchants/:merchantId/templates/preview',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('templates.read'),
      schema: {
        tags,
        summary: 'Preview an unsaved template',
        description:
          "The same preview for a spec being edited (nothing is saved): the editor's live preview. 400 TEMPLATE_INVALID names the fields the spec still lacks.",
        params: MerchantParams,
        body: Type.Object({ spec: Type.Unknown() }, { additionalProperties: false }),
        response: { 200: WalletPreview, ...Errors },
      },
    },
    async (req) => {
      await merchants.getMerchant(deps, req.params.merchantId)
      return templates.draftPreview(deps, req.params.merchantId, req.body.spec)
    },
  )
  app.get(
    '/api/templates/:templateId',
    {
      config: { tenancy: 'template' },
      preValidation: requirePermission('templates.read'),
      schema: {
        summary: 'Get a card template',
        tags,
        description: "A template with its draft, status and Alipay's template id.",
        params: TemplateParams,
        response: { 200: TemplateView, ...Errors },
      },
    },
    async (req) => templates.getTemplate(deps, req.params.templateId),
  )
  app.put(
    '/api/templates/:templateId',
    {
      config: { tenancy: 'template' },
      preValidation: requirePermission('templates.write'),
      schema: {
        summary: 'Save a template draft',
        tags,
        description:
          'Save the draft. Send the revision you edited to refuse overwriting a newer save (409).',
        params: TemplateParams,
        body: Type.Object(
          { spec: TemplateSpec, revision: Type.Optional(Type.Integer({ minimum: 1 })) },
          { additionalProperties: false },
        ),
        response: { 200: TemplateView, ...Errors },
      },
    },
    async (req) =>
      templates.updateTemplateDraft(
        deps,
        req.params.templateId,
        req.body.spec,
        actorOf(req),
        req.body.revision,
      ),
  )
  app.post(
    '/api/templates/:templateId/publish',
    {
      config: { tenancy: 'template' },
      preValidation: requirePermission('templates.publish'),
      schema: {
        summary: 'Publish a template to Alipay',
        tags,
        description:
          'Publish the draft to Alipay: template.create the first time, template.modify after; formtemplate.set only when the form changed.',
        params: TemplateParams,
        response: { 200: PublishResult, ...Errors, 503: ErrorBody },
      },
    },
    async (req) => templates.publishTemplate(deps, req.params.templateId, actorOf(req)),
  )
  app.post(
    '/api/templates/:templateId/crm-level-check',
    {
      config: { tenancy: 'template' },
      preValidation: requirePermission('templates.publish'),
      schema: {
        summary: "Check the CRM's level codes against the template",
        tags,
        description:
          "Before publishing: asks the merchant's CRM (openCardInfo, one call, the same test member every time) what level a new member of this template gets, and says whether the template defines it. A level it does not define fails every claim (CRM_LEVEL_UNKNOWN). `checked` is false without a CRM, or with `problem` when the CRM could not answer.",
        params: TemplateParams,
        response: { 200: CrmLevelCheck, ...Errors },
      },
    },
    async (req) => {
      const template = await templates.getTemplate(deps, req.params.templateId)
      return checkCrmLevels(deps, template.merchantId, template.id)
    },
  )
  app.get(
    '/api/templates/:templateId/claim-links',
    {
      config: { tenancy: 'template' },
      preValidation: requirePermission('templates.read'),
      schema: {
        summary: 'List claim links',
        tags,
        description: 'Claim links made for a template, paged.',
        params: TemplateParams,
        querystring: Type.Object(PageQuery(['createdAt'])),
        response: { 200: Paged(ClaimLinkView), ...Errors },
      },
    },
    async (req) =>
      pageInMemory(
        (await templates.listClaimLinks(deps, req.params.templateId)).map(linkView),
        pageRequest(req.query, { sort: 'createdAt', order: 'desc' }),
        { createdAt: (l) => l.createdAt },
      ),
  )
  app.post(
    '/api/templates/:templateId/claim-links',
    {
      config: { tenancy: 'template' },
      preValidation: requirePermission('templates.publish'),
      schema: {
        summary: 'Create a claim link',
        tags,
        description:
          'A claim link (activateurl.apply) for a published template, with an optional channel (out_string); also as a QR code.',
        params: TemplateParams,
        body: ClaimLinkBody,
        response: { 201: ClaimLinkView, ...Errors, 503: ErrorBody },
      },
    },
    async (req, reply) =>
      reply
        .code(201)
        .send(
          linkView(
            await templates.createClaimLink(deps, req.params.templateId, req.body, actorOf(req)),
          ),
        ),
  )
  const QrParams = Type.Object({
    linkId: Type.String(),
    format: Type.Union([Type.Literal('svg'), Type.Literal('png')]),
  })
  app.get(
    '/api/claim-links/:linkId/qr.:format',
    {
      config: { tenancy: 'claim link' },
      preValidation: requirePermission('templates.read'),
      schema: {
        summary: 'A claim link as a QR code',
        tags,
        description: 'The claim link as a QR code (SVG or PNG).',
        params: QrParams,
      },
    },
    async (req, reply) => {
      const image = await templates.claimLinkQr(deps, req.params.linkId, req.params.format)
      return reply.type(req.params.format === 'svg' ? 'image/svg+xml' : 'image/png').send(image)
    },
  )

  app.get(
    '/api/merchants/:merchantId/components',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('templates.read'),
      schema: {
        summary: 'List card components',
        tags: ['components'],
        description: 'Mini-program card components (会员卡组件), paged.',
        params: MerchantParams,
        querystring: Type.Object(PageQuery(['createdAt', 'name'])),
        response: { 200: Paged(ComponentView), ...Errors },
      },
    },
    async (req) => {
      const m = await merchants.getMerchant(deps, req.params.merchantId)
      const all = (await templates.listComponents(deps, m.id)).map((c) => ({
        ...c,
        publicUrl: m.publicBaseUrl ? `${m.publicBaseUrl}/api/components/${c.id}` : null,
      }))
      return pageInMemory(all, pageRequest(req.query, { sort: 'createdAt', order: 'desc' }), {
        createdAt: (c) => c.createdAt,
        name: (c) => c.name,
      })
    },
  )
  app.post(
    '/api/merchants/:merchantId/components',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('templates.write'),
      schema: {
        summary: 'Create a card component',
        tags: ['components'],
        description: 'Bind a card component to a template (published or not).',
        params: MerchantParams,
        body: ComponentBody,
        response: { 201: ComponentView, ...Errors },
      },
    },
    async (req, reply) => {
      const m = await merchants.getMerchant(deps, req.params.merchantId)
      const c = await templates.createComponent(deps, m.id, req.body, actorOf(req))
      return reply.code(201).send({
        ...c,
        publicUrl: m.publicBaseUrl ? `${m.publicBaseUrl}/api/components/${c.id}` : null,
      })
    },
  )
}
