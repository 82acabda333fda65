import { createCoreClient, generateKeyPair, type CoreClient } from '@kaguan/crm-sdk'
import { startSampleCrm, type SampleCrm } from '@kaguan/sample-crm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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

/** One sample of a Prometheus text exposition: name, labels, value. */
interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m) {
      continue
    }
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!
    }
    samples.push({ name: m[1]!, labels, value: Number(m[3]) })
  }
  return samples
}

/** The sum of every sample of `name` whose labels include `labels`. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0)
}

async function scrape(base: string): Promise<Sample[]> {
  const res = await fetch(`${base}/metrics`)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  return parseMetrics(await res.text())
}

describe('/metrics after a claim and a /card/update through the emulator', () => {
  let stack: Stack
  let admin: AdminClient
  let crm: SampleCrm
  let client: CoreClient
  let card: { templateId: string; alipayTemplateId: string; claimUrl: string }

  beforeAll(async () => {
    stack = await startStack()
    admin = await adminClient(stack, 'admin')
    const keys = generateKeyPair()
    crm = await startSampleCrm({
      port: 0,
      token: 'metrics-token',
      privateKey: keys.privateKey,
      kaguanCoreUrl: stack.kaguan.urls.core!,
    })
    const images = await configureMerchant(stack, admin, {
      baseUrl: crm.url,
      token: 'metrics-token',
      publicKey: keys.publicKey,
    })
    card = await publishCard(admin, cardSpec(images))
    client = createCoreClient({ baseUrl: stack.kaguan.urls.core!, privateKey: keys.privateKey })
  })
  afterAll(async () => {
    await crm?.close()
    await stack?.close()
  })

  it('counts HTTP by route pattern, Alipay and CRM calls, claims, the ledger and the outbox', async () => {
    const { core, mini } = stack.kaguan.urls
    const before = await scrape(core!)
    const claimsDone = (s: Sample[]) => value(s, 'kaguan_claims', { outcome: 'done' })
    const cardOpens = (s: Sample[]) =>
      value(s, 'kaguan_alipay_call_duration_seconds_count', {
        method: 'alipay.marketing.card.open',
        result: 'success',
      })
    const cardUpdates = (s: Sample[]) =>
      value(s, 'kaguan_alipay_call_duration_seconds_count', {
        method: 'alipay.marketing.card.update',
        result: 'success',
      })
    const openCardInfo = (s: Sample[]) =>
      value(s, 'kaguan_crm_call_duration_seconds_count', {
        path: '/card/openCardInfo',
        result: 'success',
      })
    const coreUpdates = (s: Sample[]) =>
      value(s, 'kaguan_http_request_duration_seconds_count', {
        role: 'core',
        route: '/card/update',
        status: '200',
      })
    expect(value(before, 'kaguan_domain_metrics_up')).toBe(1)

    // A claim through the emulator's wallet.
    const { userId } = await emulatorJson<{ userId: string }>(
      stack.emulator,
      'POST',
      '/__emulator/users',
      { name: '王五', mobile: '13700137000' },
    )
    const claimed = await emulatorJson<{ status: number; body: string }>(
      stack.emulator,
      'POST',
      '/__emulator/claim',
      {
        userId,
        applyCardUrl: card.claimUrl,
        form: { OPEN_FORM_FIELD_MOBILE: '13700137000', OPEN_FORM_FIELD_NAME: '王五' },
      },
    )
    expect(claimed.status).toBe(200)
    const [alipayCard] = await emulatorJson<EmulatorCard[]>(
      stack.emulator,
      'GET',
      `/__emulator/cards?userId=${userId}`,
    )

    // Domain figures are cached for a few seconds per scrape; wait for the claim to show.
    const afterClaim = await eventually(async () => {
      const s = await scrape(mini!)
      return claimsDone(s) > claimsDone(before) ? s : undefined
    }, 'the claim in kaguan_claims')
    expect(cardOpens(afterClaim)).toBe(cardOpens(before) + 1)
    expect(openCardInfo(afterClaim)).toBe(openCardInfo(before) + 1)
    expect(
      value(afterClaim, 'kaguan_http_request_duration_seconds_count', {
        role: 'mini',
        route: '/aliCallback',
      }),
    ).toBeGreaterThanOrEqual(1)
    // Both roles of this process read one registry.
    expect(
      value(await scrape(core!), 'kaguan_alipay_call_duration_seconds_count', {
        method: 'alipay.marketing.card.open',
      }),
    ).toBe(cardOpens(afterClaim))

    // A signed update from the CRM, pushed to Alipay by the worker.
    const result = await client.updateCard({
      templateId: card.alipayTemplateId,
      bizCardNo: alipayCard!.externalCardNo,
      point: '4321',
      changeReason: 'metrics',
    })
    expect(result).toEqual({ status: 'OK' })
    const afterUpdate = await eventually(async () => {
      const s = await scrape(core!)
      return cardUpdates(s) > cardUpdates(afterClaim) ? s : undefined
    }, 'the pushed update in the Alipay call counter')
    expect(coreUpdates(afterUpdate)).toBe(coreUpdates(before) + 1)
    expect(
      value(afterUpdate, 'kaguan_http_request_duration_seconds_bucket', {
        route: '/card/update',
        le: '+Inf',
      }),
    ).toBe(coreUpdates(afterUpdate))

    const settled = await eventually(
      async () => {
        const s = await scrape(core!)
        const ledger = value(s, 'kaguan_ledger_entries', { ledger: 'points' })
        return ledger > value(before, 'kaguan_ledger_entries', { ledger: 'points' }) &&
          value(s, 'kaguan_cards_behind_alipay') === 0
          ? s
          : undefined
      },
      'the ledger entry counted and the card in sync',
      15_000,
    )
    expect(value(settled, 'kaguan_card_sync_lag_seconds')).toBe(0)
    expect(settled.some((s) => s.name === 'kaguan_outbox_parked_entries')).toBe(true)
  })

  it('labels by the route pattern, never the raw URL', async () => {
    const { core } = stack.kaguan.urls
    await fetch(`${core}/no/such/path?auth_code=secret-123`)
    const text = await (await fetch(`${core}/metrics`)).text()
    expect(text).not.toContain('secret-123')
    expect(text).not.toContain('/no/such/path')
    expect(
      value(parseMetrics(text), 'kaguan_http_request_duration_seconds_count', {
        route: '(unmatched)',
        status: '404',
      }),
    ).toBeGreaterThanOrEqual(1)
  })

  it('shows management metrics only behind the login', async () => {
    const base = stack.kaguan.urls.management!
    const anonymous = await fetch(`${base}/metrics`)
    expect(anonymous.status).toBe(401)
    expect(((await anonymous.json()) as { errcode: string }).errcode).toBe('AUTH_REQUIRED')
    const signedIn = await admin.request('GET', '/metrics')
    expect(signedIn.status).toBe(200)
    expect(signedIn.text).toContain('kaguan_http_request_duration_seconds_bucket')
  })
})
