import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  createCoreClient,
  createCrmHandler,
  generateKeyPair,
  type CoreClient,
} from '@kaguan/crm-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { recentAudit } from '../../src/modules/audit/index.js'
import {
  adminClient,
  cardSpec,
  configureMerchant,
  emulatorJson,
  eventually,
  publishCard,
  startStack,
  type AdminClient,
  type EmulatorCard,
  type Stack,
} from '../helpers/kaguan.js'

/**
 * A CRM whose accepted tokens the test changes as an operator would (old; old + new; new), built on
 * crm-sdk's handler. It registers every Alipay user it is asked about.
 */
async function startTokenCrm(token: string) {
  let accepted: string[] = [token]
  let calls = 0
  let refused = 0
  const members = new Map<string, string>()
  const handler = () =>
    createCrmHandler({
      token: accepted,
      onRequest: () => void (calls += 1),
      async openCardInfo(input) {
        const bizCardNo =
          members.get(input.alipayUserId) ?? `CRM${String(members.size + 1).padStart(6, '0')}`
        members.set(input.alipayUserId, bizCardNo)
        return { bizCardNo, point: 10, level: 'SILVER' }
      },
      async cardChange() {
        return true
      },
      async mdCodeChange() {
        throw new Error('not used')
      },
    })
  let current = handler()
  const server: Server = createServer((req, res) => {
    res.on('finish', () => {
      if (res.statusCode === 401) {
        refused += 1
      }
    })
    current(req, res)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    accept(tokens: string[]) {
      accepted = tokens
      current = handler()
    },
    stats: () => ({ calls, refused }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

describe('key rotation with traffic flowing: no request lost', () => {
  let stack: Stack
  let admin: AdminClient
  let crm: Awaited<ReturnType<typeof startTokenCrm>>
  let template: { alipayTemplateId: string; claimUrl: string }
  const oldCrmKeys = generateKeyPair()
  const newCrmKeys = generateKeyPair()

  beforeAll(async () => {
    stack = await startStack()
    admin = await adminClient(stack, 'admin')
    crm = await startTokenCrm('old-token-0123456789')
    const images = await configureMerchant(stack, admin, {
      baseUrl: crm.url,
      token: 'old-token-0123456789',
      publicKey: oldCrmKeys.publicKey,
    })
    template = await publishCard(admin, cardSpec(images))
  })
  afterAll(async () => {
    await crm?.close()
    await stack?.close()
  })

  async function claim(n: number): Promise<EmulatorCard> {
    const mobile = `1370000${String(n).padStart(4, '0')}`
    const { userId } = await emulatorJson<{ userId: string }>(
      stack.emulator,
      'POST',
      '/__emulator/users',
      {
        name: '王五',
        mobile,
      },
    )
    const res = await emulatorJson<{ status: number; body: string }>(
      stack.emulator,
      'POST',
      '/__emulator/claim',
      {
        userId,
        applyCardUrl: template.claimUrl,
        form: { OPEN_FORM_FIELD_MOBILE: mobile, OPEN_FORM_FIELD_NAME: '王五' },
      },
    )
    if (res.status !== 200) {
      throw new Error(`claim ${n}: ${res.body}`)
    }
    const [card] = await emulatorJson<EmulatorCard[]>(
      stack.emulator,
      'GET',
      `/__emulator/cards?userId=${userId}`,
    )
    return card!
  }

  it('rotates the CRM key, the CRM token and the app private key while /card/update and claims flow', async () => {
    const card = await claim(0)
    const keys = (path = '') => `/api/merchants/mch_default/keys${path}`
    const ok = async (method: string, path: string, body?: unknown) => {
      const r = await admin.request(method, path, body)
      expect(r.status, r.text).toBe(200)
      return r.body
    }

    // The CRM's traffic: signed /card/update, one after another, with whichever key it signs with now.
    let signer: CoreClient = createCoreClient({
      baseUrl: stack.kaguan.urls.core!,
      privateKey: oldCrmKeys.privateKey,
    })
    let sent = 0
    const answers: unknown[] = []
    let stop = false
    const deadline = Date.now() + 60_000
    const traffic = (async () => {
      while (!stop && sent < 2_000 && Date.now() < deadline) {
        sent += 1
        answers.push(
          await signer.updateCard({
            templateId: template.alipayTemplateId,
            bizCardNo: card.externalCardNo,
            point: String(sent),
            changeReason: `rotation traffic ${sent}`,
          }),
        )
      }
    })().catch((error: unknown) => {
      answers.push({ status: 'ERROR', error: String(error) })
      stop = true
    })
    const progress = async (more: number) => {
      const from = sent
      await eventually(async () => sent >= from + more, `${more} more updates`, 20_000)
    }
    let claims = 1

    // 1. CRM public key: the new one added with a window; the CRM switches when it likes; old retired.
    await progress(5)
    const added = await ok('POST', keys('/crm-key'), {
      publicKey: newCrmKeys.publicKey,
      overlapHours: 24,
    })
    expect(added.crmKey.old.accepted).toBe(true)
    await progress(5)
    signer = createCoreClient({
      baseUrl: stack.kaguan.urls.core!,
      privateKey: newCrmKeys.privateKey,
    })
    await progress(5)
    const retired = await ok('POST', keys('/crm-key/retire-old'))
    expect(retired.crmKey.old).toBeNull()
    await progress(5)

    // 2. CRM token: issued beside the old; the CRM learns it later; kaguan falls back meanwhile.
    const issued = await ok('POST', keys('/crm-token'), {})
    expect(issued.issuedToken).toMatch(/^[\w-]{40,}$/)
    await claim(claims++) // the CRM knows only the old token: kaguan's new one is refused, the old one works
    expect(crm.stats().refused).toBeGreaterThan(0)
    expect((await ok('GET', keys())).crmToken.next.seenAt).toBeNull()
    crm.accept(['old-token-0123456789', issued.issuedToken])
    await claim(claims++)
    await eventually(
      async () => (await ok('GET', keys())).crmToken.next.seenAt,
      'the new token seen',
    )
    crm.accept([issued.issuedToken]) // the CRM drops the old token before kaguan does: still fine
    await claim(claims++)
    await progress(5)
    expect((await ok('POST', keys('/crm-token/retire-old'))).crmToken.next).toBeNull()
    const refusedBefore = crm.stats().refused
    await claim(claims++)
    expect(crm.stats().refused).toBe(refusedBefore)

    // 3. App private key: staged; the operator uploads its public key to Alipay (the emulator) before
    // activating it in kaguan: the pushes Alipay refuses with the old key go out with the staged one.
    const staged = await ok('POST', keys('/app-key'), {})
    await progress(5)
    await emulatorJson(stack.emulator, 'POST', '/__emulator/apps', {
      appId: stack.appId,
      appPublicKey: staged.appKey.next.publicKey,
      gatewayUrl: `${stack.kaguan.urls.mini}/alipay/gateway`,
      callbackUrls: [`${stack.kaguan.urls.mini}/aliCallback`],
      products: ['member_card', 'koubei'],
    })
    await progress(10)
    await claim(claims++) // oauth, form query and card open all signed with the staged key by fallback
    const activated = await ok('POST', keys('/app-key/activate'))
    expect(activated.appKey.fingerprint).toBe(staged.appKey.next.fingerprint)
    expect(activated.appKey.next).toBeNull()
    await progress(10)
    await claim(claims++)

    stop = true
    await traffic
    expect(answers).toHaveLength(sent)
    expect(answers.filter((a) => (a as { status: string }).status !== 'OK')).toEqual([])
    // Applied: every update is in the card's ledger, and Alipay's card shows the last one.
    const applied = await stack.kaguan.deps.db
      .selectFrom('point_entries')
      .select('point_after')
      .where('reason', 'like', 'rotation traffic %')
      .execute()
    expect(applied.map((e) => Number(e.point_after)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: sent }, (_, i) => i + 1),
    )
    await eventually(
      async () => {
        const c = (
          await emulatorJson<EmulatorCard[]>(stack.emulator, 'GET', '/__emulator/cards')
        ).find((x) => x.bizCardNo === card.bizCardNo)
        return Number(c?.point) === sent
      },
      'the last update on the Alipay card',
      20_000,
    )

    // Every step audited, keys by fingerprint only.
    const audit = await recentAudit(stack.kaguan.deps, 'mch_default', 50)
    const actions = audit.map((a) => a.action)
    for (const action of [
      'merchant.keys.crm_key.add',
      'merchant.keys.crm_key.retire_old',
      'merchant.keys.crm_token.issue',
      'merchant.keys.crm_token.retire_old',
      'merchant.keys.app_key.stage',
      'merchant.keys.app_key.activate',
    ]) {
      expect(actions).toContain(action)
    }
    const text = JSON.stringify(audit)
    expect(text).not.toContain(issued.issuedToken)
    expect(stack.logs()).not.toContain(issued.issuedToken)
    expect(sent).toBeGreaterThan(60)
  }, 120_000)
})
