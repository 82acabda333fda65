import {
  AlipayError,
  type AlipayClient,
  type CardTemplateCreate,
  type CardTemplateModify,
  type MerchantCard,
} from '@kaguan/alipay'
import type {
  CardChangeRequest,
  CrmPort,
  OpenCardInfoAnswer,
  OpenCardInfoRequest,
} from '../../src/modules/crm/index.js'
import type { AlipayApp, AlipayPort } from '../../src/ports/alipay.js'

/**
 * In-memory stand-ins for the two outside systems, for DB-tier tests that exercise kaguan's own
 * logic (claim, publish, reconcile) on both dialects without an emulator or CRM process. They keep
 * just enough state to answer consistently; the emulator-backed e2e tests stay the proof that the
 * real signed protocol works.
 */

type Method = Exclude<keyof AlipayClient, 'appId' | 'gateway'>

export interface FakeCard {
  templateId: string
  userId: string
  card: MerchantCard & { biz_card_no: string }
  /** False once the user removed the card from the wallet (query answers no schema_url). */
  inWallet: boolean
}

export interface FakeAlipay extends AlipayPort {
  /** Every call in order, with its biz content. */
  readonly calls: { method: Method; biz: unknown }[]
  readonly templates: Map<string, CardTemplateCreate | CardTemplateModify>
  /** By Alipay card number. */
  readonly cards: Map<string, FakeCard>
  /** How many clients were built: one per merchant and set of keys. */
  readonly built: AlipayApp[]
  /** The next call of `method` fails with Alipay's business error `subCode`. */
  failNext(method: Method, subCode: string): void
  /** What `queryActivateForm` answers: the claim form the user submitted. */
  form: Record<string, string>
}

export function fakeAlipay(): FakeAlipay {
  const calls: FakeAlipay['calls'] = []
  const templates = new Map<string, CardTemplateCreate | CardTemplateModify>()
  const cards = new Map<string, FakeCard>()
  const opened = new Map<string, string>()
  const failures = new Map<Method, string>()
  const built: AlipayApp[] = []
  let seq = 0
  const next = (prefix: string) => `${prefix}${String(++seq).padStart(8, '0')}`

  function record(method: Method, biz: unknown): void {
    calls.push({ method, biz })
    const subCode = failures.get(method)
    if (subCode) {
      failures.delete(method)
      throw new AlipayError({
        code: '40004',
        msg: 'Business Failed',
        subCode,
        subMsg: `fake failure of ${method}`,
        method,
      })
    }
  }

  const fake: FakeAlipay = {
    calls,
    templates,
    cards,
    built,
    form: { OPEN_FORM_FIELD_MOBILE: '13800138000', OPEN_FORM_FIELD_NAME: '张三' },
    failNext(method, subCode) {
      failures.set(method, subCode)
    },
    forMerchant(app) {
      built.push(app)
      const client: AlipayClient = {
        appId: app.appId,
        gateway: app.gateway,
        alipayCertSn: undefined,
        async queryAuthInfo(biz) {
          record('queryAuthInfo', biz)
          return {}
        },
        async uploadImage(input) {
          record('uploadImage', { image_name: input.image_name })
          const id = next('img')
          return { image_id: id, image_url: `https://fake.alipay/${id}` }
        },
        async createCardTemplate(biz) {
          record('createCardTemplate', biz)
          const id = next('2020')
          templates.set(id, biz)
          return { template_id: id }
        },
        async modifyCardTemplate(biz) {
          record('modifyCardTemplate', biz)
          templates.set(biz.template_id, biz)
          return { template_id: biz.template_id }
        },
        async queryCardTemplate(biz) {
          record('queryCardTemplate', biz)
          return templates.get(biz.template_id) as never
        },
        async setFormTemplate(biz) {
          record('setFormTemplate', biz)
          return {}
        },
        async applyActivateUrl(biz) {
          record('applyActivateUrl', biz)
          const url = `https://fake.alipay/apply?template_id=${biz.template_id}&callback=${encodeURIComponent(biz.callback ?? '')}`
          return { apply_card_url: encodeURIComponent(url) }
        },
        async exchangeAuthCode(code) {
          record('exchangeAuthCode', { code })
          // The auth code names the user in these tests: `code-<userId>`.
          return { user_id: code.replace(/^code-/, ''), access_token: `token-${code}` }
        },
        async refreshAuthToken(refreshToken) {
          record('refreshAuthToken', { refreshToken })
          return { access_token: `token-${refreshToken}` }
        },
        async exchangeAppAuthCode(code) {
          record('exchangeAppAuthCode', { code })
          return { app_auth_token: `aat-${code}`, app_refresh_token: `art-${code}` }
        },
        async refreshAppAuthToken(refreshToken) {
          record('refreshAppAuthToken', { refreshToken })
          return { app_auth_token: `aat-${refreshToken}`, app_refresh_token: `art-${refreshToken}` }
        },
        async queryAppAuthToken(appAuthToken) {
          record('queryAppAuthToken', { appAuthToken })
          return { status: 'valid' }
        },
        async queryActivateForm(biz) {
          record('queryActivateForm', biz)
          return {
            infos: JSON.stringify(Object.entries(fake.form).map(([k, v]) => ({ [k]: v }))),
          }
        },
        async openCard(biz) {
          record('openCard', biz)
          // Alipay answers a repeated out_serial_no with the card it opened the first time.
          const again = opened.get(biz.out_serial_no)
          if (again) {
            return { card_info: cards.get(again)!.card }
          }
          const cardNo = next('ALI')
          const card = { ...biz.card_ext_info, biz_card_no: cardNo }
          cards.set(cardNo, {
            templateId: biz.card_template_id,
            userId: biz.card_user_info.user_uni_id ?? '',
            card,
            inWallet: true,
          })
          opened.set(biz.out_serial_no, cardNo)
          return { card_info: card }
        },
        async queryCard(biz) {
          record('queryCard', biz)
          const held = cards.get(biz.target_card_no)
          if (!held) {
            throw new AlipayError({ code: '40004', subCode: 'CARD_NOT_EXIST', method: 'queryCard' })
          }
          return held.inWallet
            ? { card_info: held.card, schema_url: `alipays://card/${biz.target_card_no}` }
            : { card_info: held.card, schema_url: '' }
        },
        async updateCard(biz) {
          record('updateCard', biz)
          const held = cards.get(biz.target_card_no)
          if (!held) {
            throw new AlipayError({
              code: '40004',
              subCode: 'CARD_NOT_EXIST',
              method: 'updateCard',
            })
          }
          held.card = { ...held.card, ...biz.card_info }
          return {}
        },
        async deleteCard(biz) {
          record('deleteCard', biz)
          cards.delete(biz.target_card_no)
          return {}
        },
        async notifyCardMessage(biz) {
          record('notifyCardMessage', biz)
          if (!cards.has(biz.target_card_no)) {
            throw new AlipayError({
              code: '40004',
              subCode: 'CARD_NOT_EXIST',
              method: 'notifyCardMessage',
            })
          }
          return {}
        },
        createCampaignActivity: unsupported('createCampaignActivity'),
        queryCampaignActivity: unsupported('queryCampaignActivity'),
        updateToolPoints: unsupported('updateToolPoints'),
        queryToolPoints: unsupported('queryToolPoints'),
        authPrizeSend: unsupported('authPrizeSend'),
        call: unsupported('call'),
      }
      return client
    },
  }
  return fake
}

function unsupported(method: string) {
  return () =>
    Promise.reject(new Error(`fakeAlipay does not model ${method}: use the emulator-backed e2e`))
}

export interface FakeCrm extends CrmPort {
  readonly opened: OpenCardInfoRequest[]
  readonly changes: CardChangeRequest[]
  /** What openCardInfo answers for a user; default: a new member `CRM<n>` with 0 points. */
  members: Map<string, Omit<OpenCardInfoAnswer, 'cardNo'>>
  /** When set, every call fails with this error (e.g. an AppError CRM_TIMEOUT). */
  down: Error | undefined
}

export function fakeCrm(): FakeCrm {
  let seq = 0
  const crm: FakeCrm = {
    opened: [],
    changes: [],
    members: new Map(),
    down: undefined,
    send: () => Promise.reject(new Error('fakeCrm has no HTTP: use the typed calls')),
    async openCardInfo(_endpoint, body) {
      if (crm.down) {
        throw crm.down
      }
      crm.opened.push(body)
      let member = crm.members.get(body.alipayUserId)
      if (!member) {
        member = { bizCardNo: `CRM${String(++seq).padStart(6, '0')}`, point: 0 }
        crm.members.set(body.alipayUserId, member)
      }
      return { ...member, ms: 1 }
    },
    async cardChange(_endpoint, body) {
      if (crm.down) {
        throw crm.down
      }
      crm.changes.push(body)
    },
    async mdCodeChange() {
      if (crm.down) {
        throw crm.down
      }
      return {
        codeValue: `MD${String(++seq).padStart(10, '0')}`,
        codeExpire: '2030-01-01 00:00:00',
      }
    },
  }
  return crm
}
