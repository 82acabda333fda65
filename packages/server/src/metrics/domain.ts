import type { Executor } from '../db/db.js'
import { cardFigures } from '../modules/cards/index.js'
import { certExpiryFigures } from '../modules/merchants/index.js'
import { outboxDepth, OutboxStatus } from '../modules/outbox/index.js'
import { stampEntryFigures } from '../modules/stamps/index.js'
import type { Clock } from '../shared/clock.js'
import type { DomainFigures } from './metrics.js'

const ageSeconds = (now: number, iso: string): number =>
  Math.max(0, (now - new Date(iso).getTime()) / 1000)

/** Reads what the modules count, through their index functions, for one scrape. */
export async function readDomainFigures(deps: {
  db: Executor
  clock: Clock
}): Promise<DomainFigures> {
  const [depth, cards, stamps, certs] = await Promise.all([
    outboxDepth(deps),
    cardFigures(deps),
    stampEntryFigures(deps),
    certExpiryFigures(deps),
  ])
  const now = deps.clock.now().getTime()
  const oldest = new Map<string, string>()
  for (const d of depth) {
    if (d.status === OutboxStatus.Pending || d.status === OutboxStatus.Running) {
      const seen = oldest.get(d.topic)
      if (seen === undefined || d.oldestCreatedAt < seen) {
        oldest.set(d.topic, d.oldestCreatedAt)
      }
    }
  }
  return {
    outbox: depth.map((d) => ({ topic: d.topic, status: d.status, count: d.count })),
    outboxOldestPendingSeconds: [...oldest].map(([topic, at]) => ({
      topic,
      seconds: ageSeconds(now, at),
    })),
    outboxParked: depth
      .filter((d) => d.status === OutboxStatus.Parked)
      .reduce((sum, d) => sum + d.count, 0),
    cardsBehind: cards.behind,
    cardSyncLagSeconds: cards.oldestBehindSince ? ageSeconds(now, cards.oldestBehindSince) : 0,
    claims: cards.claims,
    alipayCertExpirySeconds: certs.map((c) => ({
      merchant: c.merchantId,
      seconds: Math.round((new Date(c.expiresAt).getTime() - now) / 1000),
    })),
    ledger: [
      ...cards.pointEntries.map((e) => ({ ledger: 'points', kind: e.source, count: e.count })),
      ...stamps.map((e) => ({ ledger: 'stamps', kind: e.kind, count: e.count })),
    ],
  }
}
