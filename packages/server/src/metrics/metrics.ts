import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/**
 * The Prometheus registry of one kaguan process and the instruments the surfaces and ports feed.
 * Made once per process (in deps), never a module-level global: two kaguans in one test process
 * keep their figures apart. Domain modules never see it; what they count is read at scrape time
 * through their index functions (see domain.ts).
 */
export interface Metrics {
  registry: Registry
  /** Every HTTP request a role answered: route pattern (never the raw URL), method, status. */
  http: Histogram<'role' | 'method' | 'route' | 'status'>
  /** Every Alipay gateway call: the OpenAPI method and `success` or the error code. */
  alipay: Histogram<'method' | 'result'>
  /** Every call to a merchant's CRM: the contract path and `success` or the errcode. */
  crm: Histogram<'path' | 'result'>
  /** Long connections (长连接) this process holds open now. */
  channelConnected: Gauge
  /** Long-connection messages: `acked` (SUCCESS), `failed` (FAIL, redelivered), `refused` (bad signature, not acked). */
  channelMessages: Counter<'result'>
}

/** Seconds; from a fast local answer to the 5 s default timeouts and past them. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export interface MetricsOptions {
  /** Node's process metrics (CPU, memory, event-loop lag): on in production, off in tests. */
  processMetrics?: boolean
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry()
  if (options.processMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: 'kaguan_' })
  }
  return {
    registry,
    http: new Histogram({
      name: 'kaguan_http_request_duration_seconds',
      help: 'HTTP requests answered, by role, method, route pattern and status, with their latency.',
      labelNames: ['role', 'method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    alipay: new Histogram({
      name: 'kaguan_alipay_call_duration_seconds',
      help: 'Alipay OpenAPI calls, by method and result (success or the error code), with their latency.',
      labelNames: ['method', 'result'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    crm: new Histogram({
      name: 'kaguan_crm_call_duration_seconds',
      help: "Calls to merchants' CRMs, by contract path and result (success or the errcode), with their latency.",
      labelNames: ['path', 'result'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    channelConnected: new Gauge({
      name: 'kaguan_message_channel_connected',
      help: 'Alipay message long connections (长连接) this process holds open.',
      registers: [registry],
    }),
    channelMessages: new Counter({
      name: 'kaguan_message_channel_messages_total',
      help: 'Messages received over the long connection, by result: acked, failed (acked FAIL), refused (bad signature; not acked).',
      labelNames: ['result'],
      registers: [registry],
    }),
  }
}

/** The figures the domain modules report, read from the database at scrape time. */
export interface DomainFigures {
  /** Outbox entries not yet delivered, by topic and status (pending, running, parked). */
  outbox: { topic: string; status: string; count: number }[]
  /** Per topic, the age in seconds of the oldest entry still waiting (pending or running). */
  outboxOldestPendingSeconds: { topic: string; seconds: number }[]
  /** Entries parked for an operator, all topics. */
  outboxParked: number
  /** Active cards whose Alipay state is behind kaguan's, and how long the oldest has waited. */
  cardsBehind: number
  cardSyncLagSeconds: number
  /** Claims recorded, by outcome (done, failed, started) and errcode (empty unless failed). */
  claims: { outcome: string; errcode: string; count: number }[]
  /** Ledger entries recorded, by ledger (points, stamps) and kind (source or entry type). */
  ledger: { ledger: string; kind: string; count: number }[]
  /** Cert-mode apps: seconds until the first of the merchant's certificates expires (negative: expired). */
  alipayCertExpirySeconds?: { merchant: string; seconds: number }[]
}

/**
 * Registers gauges that read the domain figures when scraped. `read` is called at most once per
 * `cacheMs` however many roles' /metrics are scraped; when it fails the gauges keep their last
 * values and `kaguan_domain_metrics_up` says 0.
 */
export function registerDomainGauges(
  metrics: Metrics,
  read: () => Promise<DomainFigures>,
  options: { cacheMs?: number; onError?: (error: Error) => void } = {},
): void {
  const cacheMs = options.cacheMs ?? 5_000
  let last: { at: number; figures: Promise<DomainFigures | undefined> } | undefined
  const figures = (): Promise<DomainFigures | undefined> => {
    const now = performance.now()
    if (!last || now - last.at >= cacheMs) {
      last = {
        at: now,
        figures: read().then(
          (f) => {
            up.set(1)
            return f
          },
          (error: Error) => {
            up.set(0)
            options.onError?.(error)
            return undefined
          },
        ),
      }
    }
    return last.figures
  }
  const registers = [metrics.registry]
  const up = new Gauge({
    name: 'kaguan_domain_metrics_up',
    help: '1 when the last read of the domain figures from the database worked, 0 when it failed.',
    registers,
    async collect() {
      await figures()
    },
  })

  /** A gauge whose labelled values are replaced by each read. */
  function gauge<L extends string>(
    name: string,
    help: string,
    labelNames: L[],
    fill: (f: DomainFigures, g: Gauge<L>) => void,
  ): void {
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        const f = await figures()
        if (f) {
          this.reset()
          fill(f, this)
        }
      },
    })
  }

  gauge(
    'kaguan_outbox_entries',
    'Outbox entries not yet delivered, by topic and status (pending, running, parked).',
    ['topic', 'status'],
    (f, g) => f.outbox.forEach((r) => g.set({ topic: r.topic, status: r.status }, r.count)),
  )
  gauge(
    'kaguan_outbox_oldest_pending_age_seconds',
    'Age of the oldest outbox entry still waiting for delivery, by topic.',
    ['topic'],
    (f, g) => f.outboxOldestPendingSeconds.forEach((r) => g.set({ topic: r.topic }, r.seconds)),
  )
  gauge(
    'kaguan_outbox_parked_entries',
    'Outbox entries parked for an operator (kaguan outbox retry), all topics.',
    [],
    (f, g) => g.set(f.outboxParked),
  )
  gauge(
    'kaguan_cards_behind_alipay',
    "Active cards whose latest state has not reached Alipay's card bag yet.",
    [],
    (f, g) => g.set(f.cardsBehind),
  )
  gauge(
    'kaguan_card_sync_lag_seconds',
    'How long the oldest card whose Alipay state is behind has waited (0 when none is behind).',
    [],
    (f, g) => g.set(f.cardSyncLagSeconds),
  )
  gauge(
    'kaguan_claims',
    'Claims recorded in the database, by outcome (done, failed, started) and errcode.',
    ['outcome', 'errcode'],
    (f, g) => f.claims.forEach((r) => g.set({ outcome: r.outcome, errcode: r.errcode }, r.count)),
  )
  gauge(
    'kaguan_alipay_cert_expiry_seconds',
    "Cert-mode Alipay apps: seconds until the first of the merchant's three certificates expires (negative once expired).",
    ['merchant'],
    (f, g) =>
      (f.alipayCertExpirySeconds ?? []).forEach((r) => g.set({ merchant: r.merchant }, r.seconds)),
  )
  gauge(
    'kaguan_ledger_entries',
    'Ledger entries recorded in the database, by ledger (points, stamps) and kind.',
    ['ledger', 'kind'],
    (f, g) => f.ledger.forEach((r) => g.set({ ledger: r.ledger, kind: r.kind }, r.count)),
  )
}
