import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { AppAuthView, ErrorBody, OnboardBody, OnboardResult } from '@kaguan/contracts'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../../deps.js'
import * as merchants from '../../modules/merchants/index.js'
import { actorOf } from './actor.js'
import { requirePermission } from './auth.js'

const MerchantParams = Type.Object({ merchantId: Type.String({ minLength: 1 }) })
const Errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody }

/**
 * Onboarding by third-party app authorisation (商户接入, docs/alipay-app-auth.md): the platform
 * admin adds a merchant, sends its owner the link, and watches the status.
 */
export function registerAppAuthRoutes(root: FastifyInstance, deps: AppDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['onboarding']

  app.get(
    '/api/app-auths',
    {
      preValidation: requirePermission('settings.read'),
      schema: {
        summary: 'Merchants onboarded by app authorisation',
        tags,
        description:
          'Every merchant onboarded through the ISV app, with its status (pending/authorised/revoked) and, until used, its authorisation link.',
        response: {
          200: Type.Object({
            items: Type.Array(AppAuthView),
            isvAppId: Type.Union([Type.String(), Type.Null()]),
          }),
          ...Errors,
        },
      },
    },
    async () => ({
      items: await merchants.listAppAuths(deps),
      isvAppId: deps.config.isv.appId ?? null,
    }),
  )
  app.post(
    '/api/app-auths',
    {
      preValidation: requirePermission('keys.write'),
      schema: {
        summary: 'Onboard a merchant',
        tags,
        description:
          "Creates a pending merchant and its authorisation link (Alipay's appToAppAuth page for the ISV app).",
        body: OnboardBody,
        response: { 201: OnboardResult, ...Errors },
      },
    },
    async (req, reply) =>
      reply.code(201).send(await merchants.onboardMerchant(deps, req.body, actorOf(req))),
  )
  app.get(
    '/api/merchants/:merchantId/app-auth',
    {
      preValidation: requirePermission('settings.read'),
      schema: {
        summary: "A merchant's app authorisation",
        tags,
        params: MerchantParams,
        response: { 200: AppAuthView, ...Errors },
      },
    },
    async (req) => merchants.getAppAuth(deps, req.params.merchantId),
  )
  app.get(
    '/api/merchants/:merchantId/app-auth/qr.png',
    {
      preValidation: requirePermission('settings.read'),
      schema: {
        summary: 'The authorisation link as a QR code',
        tags,
        description: 'PNG for the owner to scan in Alipay; 404 once the link was used.',
        params: MerchantParams,
      },
    },
    async (req, reply) =>
      reply
        .type('image/png')
        .header('cache-control', 'no-store')
        .send(await merchants.appAuthQrPng(deps, req.params.merchantId)),
  )
  app.post(
    '/api/merchants/:merchantId/app-auth/link',
    {
      preValidation: requirePermission('keys.write'),
      schema: {
        summary: 'A new authorisation link',
        tags,
        description:
          'Replaces the link (the old one stops working): to re-authorise after a revocation, or when a link was lost.',
        params: MerchantParams,
        response: { 200: AppAuthView, ...Errors },
      },
    },
    async (req) => merchants.renewAppAuthLink(deps, req.params.merchantId, actorOf(req)),
  )
  app.post(
    '/api/merchants/:merchantId/app-auth/refresh',
    {
      preValidation: requirePermission('keys.write'),
      schema: {
        summary: "Refresh the merchant's app_auth_token now",
        tags,
        description: 'The worker does this before expiry; this is the manual "refresh now".',
        params: MerchantParams,
        response: { 200: AppAuthView, ...Errors },
      },
    },
    async (req) => merchants.refreshAppAuth(deps, req.params.merchantId, actorOf(req)),
  )
  app.post(
    '/api/merchants/:merchantId/app-auth/check',
    {
      preValidation: requirePermission('keys.write'),
      schema: {
        summary: 'Ask Alipay whether the authorisation stands',
        tags,
        description:
          '`alipay.open.auth.token.app.query`; an invalid authorisation marks the merchant revoked.',
        params: MerchantParams,
        response: { 200: AppAuthView, ...Errors },
      },
    },
    async (req) => merchants.checkAppAuth(deps, req.params.merchantId, actorOf(req)),
  )
}
