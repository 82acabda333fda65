import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { generateKeyPair, signParams } from '@kaguan/crm-sdk'
import { startSampleCrm, type SampleCrm } from '@kaguan/sample-crm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  adminClient,
  cardSpec,
  configureMerchant,
  emulatorJson,
  publishCard,
  startStack,
  type AdminClient,
  type EmulatorCard,
  type Stack,
} from '../helpers/kaguan.js'

const root = new URL('../../../../', import.meta.url).pathname
const TOKEN = 'level-test-token'

async function claim(stack: Stack, claimUrl: string) {
  const { userId } = await emulatorJson<{ userId: string }>(
    stack.emulator,
    'POST',
    '/__emulator/users',
    { name: '赵六', mobile: '13600136000' },
  )
  const res = await emulatorJson<{ status: number; body: string }>(
    stack.emulator,
    'POST',
    '/__emulator/claim',
    {
      userId,
      applyCardUrl: claimUrl,
      form: { OPEN_FORM_FIELD_MOBILE: '13600136000', OPEN_FORM_FIELD_NAME: '赵六' },
    },
  )
  const cards = await emulatorJson<EmulatorCard[]>(
    stack.emulator,
    'GET',
    `/__emulator/cards?userId=${userId}`,
  )
  return { ...res, cards }
}

describe('a CRM answering a level the template does not define', () => {
  let stack: Stack
  let admin: AdminClient
  let keys: { privateKey: string; publicKey: string }
  let wrongLevels: SampleCrm
  let templateLevels: SampleCrm
  let card: { templateId: string; alipayTemplateId: string; claimUrl: string }

  beforeAll(async () => {
    stack = await startStack()
    admin = await adminClient(stack, 'admin')
    keys = generateKeyPair()
    const common = {
      port: 0,
      token: TOKEN,
      privateKey: keys.privateKey,
      kaguanCoreUrl: stack.kaguan.urls.core!,
    }
    // The level's name where its code belongs: what the spec's old example taught.
    wrongLevels = await startSampleCrm({ ...common, levels: [{ code: '普通会员' }] })
    templateLevels = await startSampleCrm(common)
    const images = await configureMerchant(stack, admin, {
      baseUrl: wrongLevels.url,
      token: TOKEN,
      publicKey: keys.publicKey,
    })
    card = await publishCard(admin, cardSpec(images))
  })
  afterAll(async () => {
    await wrongLevels?.close()
    await templateLevels?.close()
    await stack?.close()
  })

  it('warns before a claim fails: the template check shows the CRM answering a level the template lacks', async () => {
    const check = await admin.request('POST', `/api/templates/${card.templateId}/crm-level-check`)
    expect(check.status, check.text).toBe(200)
    expect(check.body).toMatchObject({ checked: true, ok: false, level: '普通会员' })
    expect(check.body.definedLevels).not.toContain('普通会员')
    expect(check.body.definedLevels.length).toBeGreaterThan(0)
  })

  it('fails the claim with CRM_LEVEL_UNKNOWN naming the level and the defined ones, in the audit log and on the dashboard', async () => {
    const res = await claim(stack, card.claimUrl)
    expect(res.status).toBeGreaterThanOrEqual(400)
    expect(res.body).toContain('CRM_LEVEL_UNKNOWN')
    expect(res.cards).toHaveLength(0)

    const audit = await admin.request(
      'GET',
      '/api/audit?merchantId=mch_default&action=claim.failed&pageSize=5',
    )
    expect(audit.status).toBe(200)
    const entry = audit.body.items[0]
    expect(entry.after.errcode).toBe('CRM_LEVEL_UNKNOWN')
    expect(entry.after.reason).toContain('"普通会员"')
    expect(entry.after.reason).toContain('SILVER, GOLD')

    const dashboard = await admin.request('GET', '/api/dashboard?merchantId=mch_default')
    expect(dashboard.status).toBe(200)
    const [latest] = dashboard.body.recentClaimFailures
    expect(latest.errcode).toBe('CRM_LEVEL_UNKNOWN')
    expect(latest.reason).toContain('普通会员')
    expect(latest.reason).toContain('defined level codes: SILVER, GOLD')

    // And in the metrics: the failed claim by its errcode, the CRM calls themselves successes (the
    // claim's, and the template check's before it).
    const metrics = await (await fetch(`${stack.kaguan.urls.core}/metrics`)).text()
    expect(metrics).toContain('kaguan_claims{outcome="failed",errcode="CRM_LEVEL_UNKNOWN"} 1')
    expect(metrics).toMatch(
      /kaguan_crm_call_duration_seconds_count\{path="\/card\/openCardInfo",result="success"\} [1-9]\d*\n/,
    )
  })

  it('crm-check --template fails the level row for that CRM and passes it for the sample CRM', async () => {
    const run = (url: string, template: string) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [
            '--conditions=@kaguan/source',
            '--import',
            'tsx',
            join(root, 'packages/server/src/cli/main.ts'),
            'crm-check',
            '--url',
            url,
            '--token',
            TOKEN,
            '--template',
            template,
          ],
          {
            cwd: root,
            env: {
              ...Object.fromEntries(
                Object.entries(process.env).filter(([k]) => !k.startsWith('KAGUAN_')),
              ),
              KAGUAN_DATABASE_URL: stack.kaguan.deps.config.database.url,
            },
            timeout: 60_000,
          },
          (error, stdout, stderr) =>
            resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
        )
      })
    const [wrong, right] = await Promise.all([
      run(wrongLevels.url, card.templateId),
      run(templateLevels.url, card.alipayTemplateId),
    ])
    const levelRow = (out: string) => out.split('\n').find((l) => l.includes('open.level'))
    expect(wrong.code, wrong.stderr).toBe(1)
    expect(levelRow(wrong.stdout)).toMatch(/^✗/)
    expect(levelRow(wrong.stdout)).toContain('"普通会员"')
    expect(levelRow(wrong.stdout)).toContain('SILVER, GOLD')
    expect(wrong.stdout).toContain('CRM_LEVEL_UNKNOWN')
    expect(levelRow(right.stdout), right.stdout + right.stderr).toMatch(/^✓.*level SILVER/)
  })

  it("claims once the CRM answers the template's level codes (the sample CRM's default)", async () => {
    const put = await admin.request('PUT', '/api/merchants/mch_default/crm', {
      mode: 'crm',
      baseUrl: templateLevels.url,
    })
    expect(put.status, put.text).toBe(200)
    const res = await claim(stack, card.claimUrl)
    expect(res.status, res.body).toBe(200)
    expect(res.cards).toHaveLength(1)
    expect(res.cards[0]!.level).toBe('SILVER')
  })
})

describe('/card/update refuses before it looks anything up', () => {
  let stack: Stack
  let keys: { privateKey: string; publicKey: string }
  let card: { templateId: string; alipayTemplateId: string; claimUrl: string }
  const post = async (body: Record<string, string>) => {
    const res = await fetch(`${stack.kaguan.urls.core}/card/update`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    return {
      status: res.status,
      body: (await res.json()) as { status: string; errcode?: string; errmsg?: string },
    }
  }
  const signed = (params: Record<string, string>, key = keys.privateKey) => ({
    ...params,
    sign: signParams(params, key),
  })

  beforeAll(async () => {
    stack = await startStack()
    const admin = await adminClient(stack, 'admin')
    keys = generateKeyPair()
    const images = await configureMerchant(stack, admin, {
      baseUrl: 'http://127.0.0.1:1',
      token: TOKEN,
      publicKey: keys.publicKey,
    })
    card = await publishCard(admin, cardSpec(images))
  })
  afterAll(async () => {
    await stack?.close()
  })

  it("says to use Alipay's template id for kaguan's own (tpl_…)", async () => {
    const res = await post(
      signed({
        templateId: card.templateId,
        bizCardNo: 'X1',
        point: '1',
        changeReason: 't',
      }),
    )
    expect(res.status).toBe(400)
    expect(res.body.status).toBe('FAIL')
    expect(res.body.errcode).toBe('CRM_TEMPLATE_ID_KAGUAN')
    expect(res.body.errmsg).toContain(card.templateId)
    expect(res.body.errmsg).toContain("Alipay's template id")
  })

  it('checks the signature before the card or the fields: an unknown card with a bad or no signature is a signature error', async () => {
    const fields = {
      templateId: card.alipayTemplateId,
      bizCardNo: 'NO-SUCH-CARD',
      point: '5',
      changeReason: 'probe',
    }
    const stranger = generateKeyPair()
    const forged = await post(signed(fields, stranger.privateKey))
    expect(forged.status).toBe(401)
    expect(forged.body.errcode).toBe('CRM_SIGNATURE_INVALID')
    const unsigned = await post({ templateId: card.alipayTemplateId })
    expect(unsigned.status).toBe(401)
    expect(unsigned.body.errcode).toBe('CRM_SIGNATURE_MISSING')
    // Rightly signed, the same call gets as far as the card.
    const genuine = await post(signed(fields))
    expect(genuine.status).toBe(404)
    expect(genuine.body.errcode).toBe('CARD_NOT_FOUND')
  })
})
