/**
 * Bench child: the outside systems kaguan waits for — the emulator (Alipay) and a minimal CRM —
 * in one process, each request timed where it is served, so the claim figure can split kaguan's
 * own time from the time it waits for them.
 */
import { createServer } from 'node:http'
import { createCrmHandler } from '@kaguan/crm-sdk'
import { buildEmulatorApp } from '@kaguan/emulator'
import { serveChild } from './lib/ipc.js'
import { cloneNumbers } from './lib/numbers.js'

const dir = process.env.BENCH_DIR!
const token = process.env.BENCH_CRM_TOKEN!

/** [start, end] in ms of each request served (gateway, CRM) and of each merchant callback made. */
const timing = { waits: [] as [number, number][], callbacks: [] as [number, number][] }
const now = () => performance.now()

const { app, runtime } = buildEmulatorApp({
  publicUrl: 'http://127.0.0.1:1',
  dbFile: `${dir}/emulator.sqlite`,
  notifyTimeFactor: 0.001,
})
const started = new WeakMap<object, number>()
app.addHook('onRequest', async (request) => {
  started.set(request, now())
})
app.addHook('onResponse', async (request) => {
  if (request.url.startsWith('/gateway.do')) {
    timing.waits.push([started.get(request)!, now()])
  }
})
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
const emulatorUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
runtime.publicUrl = emulatorUrl
runtime.notifier.resumePending()

// The emulator's claim driver calls the merchant callback with global fetch: timing that call
// gives the whole of kaguan's part of a claim, waits included.
const realFetch = globalThis.fetch
globalThis.fetch = async (input, init) => {
  const t0 = now()
  try {
    const res = await realFetch(input, init)
    // The body read belongs to kaguan's answer too.
    const body = await res.arrayBuffer()
    return new Response(body, res)
  } finally {
    if (String(input instanceof Request ? input.url : input).includes('/aliCallback')) {
      timing.callbacks.push([t0, now()])
    }
  }
}

let issued = 0
const crmHandler = createCrmHandler({
  token,
  openCardInfo: async () => ({ bizCardNo: `CRM${String(++issued).padStart(9, '0')}`, point: 0 }),
  cardChange: async () => {},
  mdCodeChange: async () => ({
    codeValue: '880000000000',
    codeExpire: new Date(Date.now() + 120_000),
  }),
})
const crm = createServer((req, res) => {
  const t0 = now()
  res.on('finish', () => timing.waits.push([t0, now()]))
  crmHandler(req, res)
})
await new Promise<void>((resolve) => crm.listen(0, '127.0.0.1', resolve))
const crmAddress = crm.address()
const crmUrl = `http://127.0.0.1:${typeof crmAddress === 'object' && crmAddress ? crmAddress.port : 0}`

interface CardClone {
  /** The card a real claim made: the row to copy. */
  alipayCardNo: string
  from: number
  count: number
}

serveChild(
  { emulatorUrl, crmUrl },
  {
    resetTiming: () => {
      timing.waits = []
      timing.callbacks = []
      return null
    },
    /**
     * The last claim: how long kaguan's callback took, and how much of that it spent waiting for
     * the gateway and the CRM (the parts of their requests inside the callback, overlaps merged).
     */
    claimTiming: () => {
      const [start, end] = timing.callbacks.at(-1) ?? [NaN, NaN]
      const inside = timing.waits
        .map(([a, b]) => [Math.max(a, start), Math.min(b, end)] as [number, number])
        .filter(([a, b]) => b > a)
        .sort((x, y) => x[0] - y[0])
      let waitMs = 0
      let reach = -Infinity
      for (const [a, b] of inside) {
        waitMs += Math.max(0, b - Math.max(a, reach))
        reach = Math.max(reach, b)
      }
      return { totalMs: end - start, waitMs }
    },
    /** Bulk loader: copies of a claimed card under new numbers, written straight into the store. */
    cloneCards: ({ alipayCardNo, from, count }: CardClone) => {
      const row = runtime.db
        .prepare('select * from cards where biz_card_no = ?')
        .get(alipayCardNo) as Record<string, string> | undefined
      if (!row) {
        throw new Error(`no emulator card ${alipayCardNo}`)
      }
      const data = JSON.parse(row.data!) as Record<string, unknown>
      const insert = runtime.db.prepare(
        `insert into cards (biz_card_no, app_id, template_id, user_id, external_card_no, out_serial_no, status, data, created_at)
         values (?, ?, ?, ?, ?, ?, 'ACTIVE', ?, ?)`,
      )
      runtime.db.transaction(() => {
        for (let i = from; i < from + count; i++) {
          const [external, no, userId] = cloneNumbers(i)
          insert.run(
            no,
            row.app_id,
            row.template_id,
            userId,
            external,
            `bench-${no}`,
            JSON.stringify({ ...data, external_card_no: external }),
            row.created_at,
          )
        }
      })()
      return count
    },
    /** card.update calls the emulator answered after call `afterId`: all, successful, first to last. */
    updateCallsSince: ({ afterId }: { afterId: number }) => {
      const r = runtime.db
        .prepare(
          `select count(*) as n, coalesce(sum(code = '10000'), 0) as ok, min(time) as first, max(time) as last,
             (select coalesce(max(id), 0) from calls) as lastId
           from calls where method = 'alipay.marketing.card.update' and id > ?`,
        )
        .get(afterId) as {
        n: number
        ok: number
        first: string | null
        last: string | null
        lastId: number
      }
      const seconds = r.first && r.last ? (Date.parse(r.last) - Date.parse(r.first)) / 1000 : NaN
      return { n: r.n, ok: r.ok, seconds, lastId: r.lastId }
    },
    /** Points the emulator shows, by Alipay card number. */
    points: (numbers: string[]) => {
      const get = runtime.db.prepare('select data from cards where biz_card_no = ?')
      return numbers.map((n) => {
        const r = get.get(n) as { data: string } | undefined
        return r ? Number((JSON.parse(r.data) as { point?: string }).point ?? NaN) : null
      })
    },
  },
  async () => {
    await app.close()
    crm.close()
  },
)
