import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TemplateSpec } from '@kaguan/contracts'
import type { AppDeps } from '../../../deps.js'
import { createAdminUser, listAdminUsers } from '../../../modules/admin/index.js'
import {
  crmConnection,
  DEFAULT_MERCHANT_ID,
  getMerchant,
  MINI_PATHS,
  updateAlipayApp,
  updateCrm,
  updatePublicBaseUrl,
} from '../../../modules/merchants/index.js'
import { createShop, listShops, type Shop } from '../../../modules/shops/index.js'
import {
  createClaimLink,
  createTemplate,
  getTemplate,
  listClaimLinks,
  listTemplates,
  publishTemplate,
  uploadImage,
  type CardTemplate,
  type ClaimLink,
} from '../../../modules/templates/index.js'
import { publicKeyFingerprint } from '../../../shared/rsa-keys.js'
import { encodePng, mix, type Rgb } from './png.js'
import { DemoFiles, readOrCreateSecret } from './state.js'

/** The demo's Alipay app id: fixed, so the emulator and kaguan agree across restarts. */
export const DEMO_APP_ID = '2021000000000001'
/** The demo template's card name; how a restart finds it when demo.json is gone. */
export const DEMO_TEMPLATE_NAME = '咖啡会员卡'
/** The claim link's channel mark (`out_string`). */
export const DEMO_OUT_STRING = 'demo'
/** The demo template's levels; the sample CRM answers these codes (never a code the template lacks). */
export const DEMO_LEVELS = [
  { code: 'SILVER', name: '银卡会员' },
  { code: 'GOLD', name: '金卡会员', description: '全场 9 折' },
]
export const DEMO_ADMIN_USERNAME = 'admin'

/** Two shops in Shanghai, so the wallet's card detail has something to sort by distance. */
export const DEMO_SHOPS = [
  {
    name: '南京西路店',
    address: '上海市静安区南京西路 1266 号',
    latitude: 31.2292,
    longitude: 121.4547,
    alipayShopId: '2021000000100001',
    phone: '021-6288 0001',
  },
  {
    name: '陆家嘴店',
    address: '上海市浦东新区世纪大道 8 号',
    latitude: 31.2397,
    longitude: 121.4998,
    alipayShopId: '2021000000100002',
    phone: '021-6888 0002',
  },
] as const

const ACTOR = { actor: 'demo' }
const COFFEE: Rgb = [111, 78, 55]
const CREAM: Rgb = [245, 230, 211]
const GOLD: Rgb = [212, 160, 80]

/** What the demo needs in kaguan: the merchant's Alipay app and CRM. */
export interface DemoMerchantInput {
  appPrivateKeyPem: string
  appPublicKeyPem: string
  alipayPublicKey: string
  gatewayUrl: string
  miniUrl: string
  crm: { baseUrl: string; token: string; publicKey: string }
}

/**
 * Points the default merchant at the emulator and the CRM. Each setting is written only when it
 * differs, so restarts do not fill the audit log; returns whether the public URL moved (the
 * published template then carries stale notify URLs and is published again).
 */
export async function configureMerchant(
  deps: AppDeps,
  input: DemoMerchantInput,
): Promise<{ publicUrlChanged: boolean }> {
  const id = DEFAULT_MERCHANT_ID
  const view = await getMerchant(deps, id)
  if (
    view.alipay.appId !== DEMO_APP_ID ||
    view.alipay.gatewayUrl !== input.gatewayUrl ||
    view.alipay.privateKeyFingerprint !== publicKeyFingerprint(input.appPublicKeyPem) ||
    view.alipay.alipayPublicKeyFingerprint !== publicKeyFingerprint(input.alipayPublicKey)
  ) {
    await updateAlipayApp(
      deps,
      id,
      {
        appId: DEMO_APP_ID,
        privateKey: input.appPrivateKeyPem,
        alipayPublicKey: input.alipayPublicKey,
        gateway: input.gatewayUrl,
      },
      ACTOR,
    )
  }
  const publicUrlChanged = view.publicBaseUrl !== input.miniUrl
  if (publicUrlChanged) {
    await updatePublicBaseUrl(deps, id, input.miniUrl, ACTOR)
  }
  const current = await crmConnection(deps, id)
  if (
    !current ||
    current.baseUrl !== input.crm.baseUrl.replace(/\/+$/, '') ||
    current.token !== input.crm.token ||
    publicKeyFingerprint(current.publicKey) !== publicKeyFingerprint(input.crm.publicKey)
  ) {
    await updateCrm(deps, id, { mode: 'crm', ...input.crm }, ACTOR)
  }
  return { publicUrlChanged }
}

/** The demo shops in kaguan (created once, found again by their Alipay shop id). */
export async function ensureShops(deps: AppDeps): Promise<Shop[]> {
  const existing = await listShops(deps, DEFAULT_MERCHANT_ID)
  const shops: Shop[] = []
  for (const shop of DEMO_SHOPS) {
    shops.push(
      existing.find((s) => s.alipayShopId === shop.alipayShopId) ??
        (await createShop(deps, DEFAULT_MERCHANT_ID, shop, ACTOR)),
    )
  }
  return shops
}

/** The console login to print: `password` is known only when the demo made the account. */
export interface DemoAdmin {
  username: string
  passwordFile: string
  password: string | undefined
}

/**
 * Creates the `admin` account with a random password the first time (no admin account yet), and
 * keeps that password in the data folder so every later start can print it again.
 */
export async function ensureAdmin(deps: AppDeps, dataDir: string): Promise<DemoAdmin> {
  const passwordFile = join(dataDir, DemoFiles.adminPassword)
  const users = await listAdminUsers(deps)
  if (users.length === 0) {
    const { value } = readOrCreateSecret(passwordFile, () => randomBytes(12).toString('base64url'))
    await createAdminUser(
      deps,
      { username: DEMO_ADMIN_USERNAME, password: value, role: 'admin' },
      'demo',
    )
    return { username: DEMO_ADMIN_USERNAME, passwordFile, password: value }
  }
  const ours = users.some((u) => u.username === DEMO_ADMIN_USERNAME) && existsSync(passwordFile)
  return {
    username: DEMO_ADMIN_USERNAME,
    passwordFile,
    // Someone else made the accounts (or reset the password): the file may be stale, so say nothing.
    password: ours ? readFileSync(passwordFile, 'utf8').trim() : undefined,
  }
}

/** A small logo (coffee bean on cream) and a card background (coffee gradient with a gold band). */
function demoImages(): { logo: Buffer; background: Buffer } {
  const logo = encodePng(96, 96, (x, y) => {
    const dx = (x - 47.5) / 36
    const dy = (y - 47.5) / 44
    const inside = dx * dx + dy * dy <= 1
    const seam = Math.abs(x - 47.5 - 6 * Math.sin(y / 9)) < 2.5
    return inside ? (seam ? CREAM : COFFEE) : CREAM
  })
  const background = encodePng(480, 300, (x, y) => {
    if (y > 230 && y < 238) {
      return GOLD
    }
    return mix([74, 47, 30], COFFEE, (x / 479 + y / 299) / 2)
  })
  return { logo, background }
}

async function demoSpec(deps: AppDeps, shops: Shop[]): Promise<TemplateSpec> {
  const images = demoImages()
  // uploadImage answers from its own table for bytes it has seen, so this calls Alipay once per image ever.
  const logo = await uploadImage(
    deps,
    DEFAULT_MERCHANT_ID,
    { name: 'demo-logo', type: 'png', content: images.logo },
    ACTOR,
  )
  const background = await uploadImage(
    deps,
    DEFAULT_MERCHANT_ID,
    { name: 'demo-background', type: 'png', content: images.background },
    ACTOR,
  )
  return {
    basic: {
      name: DEMO_TEMPLATE_NAME,
      validity: { type: 'afterClaim', days: 365 },
      shopIds: shops.map((s) => s.id),
      servicePhone: '400-800-1234',
      description: '消费 1 元积 1 分，积分可抵现；金卡会员全场 9 折。',
    },
    style: {
      displayName: 'kaguan 咖啡',
      logoImageId: logo.id,
      backgroundImageId: background.id,
      fontColor: '#FFFFFF',
      backgroundColor: '#6F4E37',
      code: { type: 'qr' },
    },
    columns: [
      { kind: 'point', title: '积分' },
      { kind: 'level', title: '等级' },
      { kind: 'balance', title: '余额' },
    ],
    levels: DEMO_LEVELS,
    actions: [
      {
        code: 'MENU',
        text: '查看菜单',
        target: { kind: 'url', url: 'https://www.example.com/kaguan-demo/menu' },
        showInCardBag: false,
      },
    ],
    form: {
      fields: [
        { field: 'mobile', required: true },
        { field: 'name', required: true },
        { field: 'gender', required: false },
      ],
    },
    defaults: { point: 100, level: 'SILVER', balance: '0' },
  }
}

/**
 * The demo template, published. Found again by the id a previous demo.json named, else by its
 * card name; created and published only when neither exists, so restarts never make a second
 * Alipay template. Published again (`template.modify`) when the public URL moved.
 */
export async function ensureTemplate(
  deps: AppDeps,
  shops: Shop[],
  options: { previousId?: string; publicUrlChanged: boolean },
): Promise<CardTemplate> {
  let template: CardTemplate | undefined
  if (options.previousId) {
    template = await getTemplate(deps, options.previousId, DEFAULT_MERCHANT_ID).catch(
      () => undefined,
    )
  }
  template ??= (await listTemplates(deps, DEFAULT_MERCHANT_ID)).find(
    (t) => t.spec.basic.name === DEMO_TEMPLATE_NAME,
  )
  template ??= await createTemplate(deps, DEFAULT_MERCHANT_ID, await demoSpec(deps, shops), ACTOR)
  if (!template.alipayTemplateId || options.publicUrlChanged) {
    template = (await publishTemplate(deps, template.id, ACTOR)).template
  }
  return template
}

/**
 * The demo claim link: reused while it still points at this emulator and this mini URL (the
 * emulator refuses a callback the app no longer registers), else a new one.
 */
export async function ensureClaimLink(
  deps: AppDeps,
  templateId: string,
  emulatorUrl: string,
  miniUrl: string,
): Promise<ClaimLink> {
  const callback = `${miniUrl}${MINI_PATHS.callback}`
  const current = (await listClaimLinks(deps, templateId)).filter((link) => {
    if (link.outString !== DEMO_OUT_STRING) {
      return false
    }
    try {
      const url = new URL(link.url)
      return (
        url.origin === new URL(emulatorUrl).origin && url.searchParams.get('callback') === callback
      )
    } catch {
      return false
    }
  })
  return (
    current[0] ?? (await createClaimLink(deps, templateId, { outString: DEMO_OUT_STRING }, ACTOR))
  )
}
