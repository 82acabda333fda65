/** Kinds of injected failure (POST /__emulator/faults). */
export const FaultKind = {
  Latency: 'latency',
  Http5xx: 'http5xx',
  Code20000: 'code20000',
  BadSignature: 'badSignature',
  DropNotify: 'dropNotify',
  DuplicateNotify: 'duplicateNotify',
} as const
export type FaultKind = (typeof FaultKind)[keyof typeof FaultKind]

const kinds = new Set<string>(Object.values(FaultKind))

/** One fault rule as the driver API accepts it. */
export interface FaultSpec {
  kind: FaultKind
  /** Gateway method (`alipay.marketing.card.open`) or notification kind (`card_open`, `trade`…); `*` = all. */
  method?: string
  /** Probability 0..1 per matching call; default 1. */
  rate?: number
  /** Apply to at most this many matching calls; default unlimited. */
  count?: number
  /** Latency in ms (kind latency), capped at 60 s. */
  latencyMs?: number
  /** HTTP status (kind http5xx), default 502. */
  status?: number
}

interface ActiveFault extends FaultSpec {
  id: number
  remaining: number
  hits: number
}

/** Holds the active fault rules and decides, per call, which ones fire. */
export class Faults {
  #rules: ActiveFault[] = []
  #nextId = 1

  /** Validates and adds a rule; throws a readable Error on bad input. */
  add(spec: unknown): ActiveFault {
    if (spec === null || typeof spec !== 'object') {
      throw new Error('fault must be an object')
    }
    const s = spec as Record<string, unknown>
    if (typeof s.kind !== 'string' || !kinds.has(s.kind)) {
      throw new Error(`fault.kind must be one of ${[...kinds].join(', ')}`)
    }
    const rate = s.rate === undefined ? 1 : Number(s.rate)
    if (!(rate >= 0 && rate <= 1)) {
      throw new Error('fault.rate must be between 0 and 1')
    }
    const count = s.count === undefined ? Infinity : Number(s.count)
    if (!(count >= 1)) {
      throw new Error('fault.count must be a positive integer')
    }
    const rule: ActiveFault = {
      id: this.#nextId++,
      kind: s.kind as FaultKind,
      method: typeof s.method === 'string' && s.method !== '' ? s.method : '*',
      rate,
      count: Number.isFinite(count) ? count : undefined,
      latencyMs: Math.min(Number(s.latencyMs ?? 1000), 60_000),
      status: Number(s.status ?? 502),
      remaining: count,
      hits: 0,
    }
    this.#rules.push(rule)
    return rule
  }

  /** Removes every rule. */
  clear(): void {
    this.#rules = []
  }

  /** The rules with their hit counts. */
  list(): readonly ActiveFault[] {
    return this.#rules
  }

  /** The first rule of `kind` that fires for `method` (consuming one of its count), if any. */
  take(kind: FaultKind, method: string): ActiveFault | undefined {
    for (const rule of this.#rules) {
      if (rule.kind !== kind || rule.remaining <= 0) {
        continue
      }
      if (rule.method !== '*' && rule.method !== method) {
        continue
      }
      if (Math.random() >= (rule.rate ?? 1)) {
        continue
      }
      rule.remaining -= 1
      rule.hits += 1
      return rule
    }
    return undefined
  }
}
