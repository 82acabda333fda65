import { describe, expect, it } from 'vitest'
import { createMetrics, registerDomainGauges, type DomainFigures } from './metrics.js'

const figures: DomainFigures = {
  outbox: [{ topic: 'card.push', status: 'parked', count: 2 }],
  outboxOldestPendingSeconds: [{ topic: 'card.push', seconds: 42 }],
  outboxParked: 2,
  cardsBehind: 1,
  cardSyncLagSeconds: 7,
  claims: [{ outcome: 'failed', errcode: 'CRM_LEVEL_UNKNOWN', count: 3 }],
  ledger: [{ ledger: 'stamps', kind: 'DEPOSIT', count: 5 }],
}

describe('registerDomainGauges', () => {
  it('reads the figures once per cache period however many scrapes, one registry per call', async () => {
    const metrics = createMetrics({ processMetrics: false })
    let reads = 0
    registerDomainGauges(metrics, () => {
      reads++
      return Promise.resolve(figures)
    })
    const text = await metrics.registry.metrics()
    await metrics.registry.metrics()
    expect(reads).toBe(1)
    expect(text).toContain('kaguan_domain_metrics_up 1')
    expect(text).toContain('kaguan_outbox_entries{topic="card.push",status="parked"} 2')
    expect(text).toContain('kaguan_claims{outcome="failed",errcode="CRM_LEVEL_UNKNOWN"} 3')
    expect(text).toContain('kaguan_card_sync_lag_seconds 7')
    // A second process-level registry does not clash with the first.
    const other = createMetrics({ processMetrics: true })
    registerDomainGauges(other, () => Promise.resolve(figures))
    expect(await other.registry.metrics()).toContain('kaguan_process_cpu_user_seconds_total')
  })

  it('says 0 in kaguan_domain_metrics_up when the database cannot be read, and still answers', async () => {
    const metrics = createMetrics({ processMetrics: false })
    const errors: string[] = []
    registerDomainGauges(metrics, () => Promise.reject(new Error('connection refused')), {
      onError: (e) => errors.push(e.message),
    })
    const text = await metrics.registry.metrics()
    expect(text).toContain('kaguan_domain_metrics_up 0')
    expect(errors).toEqual(['connection refused'])
  })
})
