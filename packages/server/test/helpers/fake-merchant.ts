import { generateKeyPairSync } from 'node:crypto'
import sharp from 'sharp'
import type { AppDeps } from '../../src/deps.js'
import {
  DEFAULT_MERCHANT_ID,
  ensureDefaultMerchant,
  updateAlipayApp,
  updateCrm,
  updatePublicBaseUrl,
} from '../../src/modules/merchants/index.js'
import {
  createTemplate,
  publishTemplate,
  uploadImage,
  type CardTemplate,
} from '../../src/modules/templates/index.js'
import { cardSpec } from './kaguan.js'

export const FAKE_APP_ID = '2021000000000001'
const actor = { actor: 'admin:test' }

const pair = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  })

const png = (color: string) =>
  sharp({ create: { width: 120, height: 120, channels: 3, background: color } })
    .png()
    .toBuffer()

/**
 * The default merchant set up for the fake ports (test/helpers/fakes.ts): an Alipay app on a
 * loopback gateway nobody listens on (the fake answers instead), and, with `crm`, CRM mode.
 */
export async function setUpFakeMerchant(
  deps: AppDeps,
  options: { crm?: boolean; merchantId?: string; appId?: string } = {},
): Promise<void> {
  await ensureDefaultMerchant(deps)
  const merchantId = options.merchantId ?? DEFAULT_MERCHANT_ID
  await updateAlipayApp(
    deps,
    merchantId,
    {
      appId: options.appId ?? FAKE_APP_ID,
      privateKey: pair().privateKey,
      alipayPublicKey: pair().publicKey,
      gateway: 'http://127.0.0.1:9/gateway.do',
    },
    actor,
  )
  await updatePublicBaseUrl(deps, merchantId, 'http://127.0.0.1:9', actor)
  if (options.crm) {
    await updateCrm(
      deps,
      merchantId,
      {
        mode: 'crm',
        baseUrl: 'http://127.0.0.1:9',
        token: 'fake-crm-token',
        publicKey: pair().publicKey,
      },
      actor,
    )
  }
}

/** A template with the suite's usual card spec, created as a draft (images uploaded). */
export async function draftTemplate(
  deps: AppDeps,
  name = '测试会员卡',
  merchantId = DEFAULT_MERCHANT_ID,
): Promise<CardTemplate> {
  const logo = await uploadImage(
    deps,
    merchantId,
    { name: 'logo', type: 'png', content: await png('#ff0000') },
    actor,
  )
  const background = await uploadImage(
    deps,
    merchantId,
    { name: 'background', type: 'png', content: await png('#0000ff') },
    actor,
  )
  return createTemplate(
    deps,
    merchantId,
    cardSpec({ logoId: logo.id, backgroundId: background.id }, { name }),
    actor,
  )
}

/** Drafts and publishes a template; answers it with its Alipay template id. */
export async function publishedTemplate(
  deps: AppDeps,
  merchantId = DEFAULT_MERCHANT_ID,
): Promise<CardTemplate> {
  const draft = await draftTemplate(deps, undefined, merchantId)
  return (await publishTemplate(deps, draft.id, actor)).template
}
