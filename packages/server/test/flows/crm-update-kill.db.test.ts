import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair, signParams, withReplayGuard } from '@kaguan/crm-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDb } from '../../src/db/db.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { ensureDefaultMerchant } from '../../src/modules/merchants/index.js'
import { systemClock } from '../../src/shared/clock.js'
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js'

/**
 * Issue 12's acceptance: `/card/update` answers OK from a group commit. A real kaguan process
 * (`kaguan start --role core`) takes signed updates from concurrent senders and is killed with
 * SIGKILL in the middle of them; started again on the same database, every update it answered OK
 * is there once (its point entry, its nonce, its card value) and queued for Alipay (a pending
 * outbox entry for the card: no worker ran, so nothing was pushed yet).
 */

const root = new URL('../../../../', import.meta.url).pathname
const main = join(root, 'packages/server/src/cli/main.ts')
const MERCHANT = 'mch_default'
const ALIPAY_TEMPLATE = '20261207000000001'
const SENDERS = 16
const CARDS_PER_SENDER = 4

interface Kaguan {
  child: ChildProcess
  url: string
  exited: Promise<unknown>
}

async function startKaguan(databaseUrl: string, dir: string): Promise<Kaguan> {
  const child = spawn(
    process.execPath,
    ['--conditions=@kaguan/source', '--import', 'tsx', main, 'start', '--role', 'core'],
    {
      cwd: root,
      env: {
        ...Object.fromEntries(
          Object.entries(process.env).filter(([k]) => !k.startsWith('KAGUAN_')),
        ),
        KAGUAN_CORE_PORT: '0',
        KAGUAN_DATA_DIR: dir,
        KAGUAN_DATABASE_URL: databaseUrl,
        KAGUAN_MASTER_KEY_FILE: join(dir, 'master.key'),
        KAGUAN_LOG_LEVEL: 'info',
      },
    },
  )
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise((resolve) => child.on('exit', resolve))
  const deadline = Date.now() + 40_000
  let url: string | undefined
  while (!url && Date.now() < deadline) {
    url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out)?.[1]
    await new Promise((r) => setTimeout(r, 100))
  }
  if (!url) {
    child.kill('SIGKILL')
    throw new Error(`kaguan did not start:\n${out}`)
  }
  return { child, url, exited }
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: /card/update under load, kaguan killed (SIGKILL)`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'kaguan-kill-'))
    const keys = generateKeyPair()
    let db: TestDb
    let databaseUrl: string
    const cardNos: string[] = []
    let running: Kaguan | undefined

    beforeAll(async () => {
      writeFileSync(join(dir, 'master.key'), Buffer.alloc(32, 7).toString('base64'))
      if (dialect === 'sqlite') {
        // A file both processes open (the child writes, this test reads): WAL allows it.
        databaseUrl = `sqlite:${join(dir, 'kaguan.sqlite')}`
        const handle = openDb({ url: databaseUrl, dialect })
        await migrateToLatest(handle.db)
        db = { ...handle, url: databaseUrl, destroy: () => handle.close() }
      } else {
        db = await createTestDb(dialect)
        databaseUrl = db.url
      }
      await ensureDefaultMerchant({ db: db.db, clock: systemClock })
      await db.db
        .updateTable('merchants')
        .set({ crm_public_key: keys.publicKey })
        .where('id', '=', MERCHANT)
        .execute()
      const now = systemClock.nowIso()
      await db.db
        .insertInto('card_templates')
        .values({
          id: 'tpl_kill',
          merchant_id: MERCHANT,
          spec_json: '{}',
          revision: 1,
          published_json: '{}',
          published_revision: 1,
          alipay_template_id: ALIPAY_TEMPLATE,
          form_hash: null,
          published_at: now,
          publish_lease_by: null,
          publish_lease_until: null,
          created_at: now,
          updated_at: now,
        })
        .execute()
      for (let i = 0; i < SENDERS * CARDS_PER_SENDER; i++) {
        const no = `KILL${String(i).padStart(4, '0')}`
        cardNos.push(no)
        await db.db
          .insertInto('members')
          .values({
            id: `mbr_${no}`,
            merchant_id: MERCHANT,
            alipay_user_id: `2088${String(i).padStart(12, '0')}`,
            biz_card_no: no,
            source: 'crm',
            status: 'active',
            name_enc: null,
            mobile_enc: null,
            mobile_hash: null,
            cert_no_enc: null,
            cert_no_hash: null,
            gender: null,
            birthday: null,
            created_at: now,
            updated_at: now,
          })
          .execute()
        await db.db
          .insertInto('cards')
          .values({
            id: `card_${no}`,
            merchant_id: MERCHANT,
            member_id: `mbr_${no}`,
            template_id: 'tpl_kill',
            alipay_template_id: ALIPAY_TEMPLATE,
            alipay_user_id: `2088${String(i).padStart(12, '0')}`,
            biz_card_no: no,
            alipay_card_no: `A${no}`,
            status: 'active',
            out_string: null,
            point: 0,
            level: null,
            balance: null,
            state_version: 1,
            pushed_version: 1,
            open_date: now,
            valid_date: now,
            deleted_at: null,
            delete_reason: null,
            created_at: now,
            updated_at: now,
          })
          .execute()
      }
    }, 60_000)

    afterAll(async () => {
      running?.child.kill('SIGKILL')
      await db?.destroy()
    })

    const signed = (bizCardNo: string, point: number) => {
      const params = withReplayGuard({
        templateId: ALIPAY_TEMPLATE,
        bizCardNo,
        point: String(point),
        changeReason: 'kill test',
      })
      return { ...params, sign: signParams(params, keys.privateKey) }
    }

    const post = async (url: string, body: Record<string, string>) => {
      const res = await fetch(`${url}/card/update`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      return (await res.json()) as { status: string; errcode?: string }
    }

    it('keeps every update answered OK, once, queued for Alipay, after kill -9 and a restart', async () => {
      running = await startKaguan(databaseUrl, dir)
      const { url } = running
      /** Per card: the points of every update answered OK, in order; the nonces answered OK. */
      const okPoints = new Map<string, number[]>()
      const okNonces: { nonce: string; bizCardNo: string; point: number }[] = []
      const inFlight = new Map<string, number>()
      let killed = false
      let oks = 0

      // Each sender owns its cards and sends one update at a time (as a CRM waiting for the
      // answer), with rising points: 16 at once keep the batches full.
      const sender = async (s: number) => {
        for (let point = 1; !killed; point++) {
          const bizCardNo = cardNos[s * CARDS_PER_SENDER + (point % CARDS_PER_SENDER)]!
          const body = signed(bizCardNo, point)
          inFlight.set(bizCardNo, point)
          try {
            const answer = await post(url, body)
            if (answer.status === 'OK') {
              okPoints.set(bizCardNo, [...(okPoints.get(bizCardNo) ?? []), point])
              okNonces.push({ nonce: body.nonce, bizCardNo, point })
              oks++
            } else if (!killed) {
              throw new Error(`refused under load: ${JSON.stringify(answer)}`)
            }
          } catch (error) {
            if (!killed) {
              throw error
            }
            // Killed mid-request: its outcome is unknown to the sender, either is right.
            return
          }
        }
      }
      const senders = Array.from({ length: SENDERS }, (_, s) => sender(s))
      const deadline = Date.now() + 30_000
      while (oks < 400 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20))
      }
      // Mid-stream: requests are queued in batches, being committed and being answered.
      killed = true
      running.child.kill('SIGKILL')
      await running.exited
      await Promise.all(senders)
      expect(oks).toBeGreaterThanOrEqual(400)

      // Started again on the same database (SQLite replays its WAL on open).
      running = await startKaguan(databaseUrl, dir)

      const entries = await db.db
        .selectFrom('point_entries')
        .select(['card_id', 'idempotency_key', 'point_after'])
        .where('source', '=', 'crm')
        .execute()
      const byKey = new Map<string, number>()
      for (const e of entries) {
        byKey.set(e.idempotency_key, (byKey.get(e.idempotency_key) ?? 0) + 1)
      }
      const nonces = new Set(
        (
          await db.db
            .selectFrom('inbound_messages')
            .select('message_id')
            .where('source', '=', 'crm.nonce')
            .execute()
        ).map((r) => r.message_id),
      )
      for (const ok of okNonces) {
        // Present, and once.
        expect(byKey.get(`nonce:${ok.nonce}`), ok.nonce).toBe(1)
        expect(nonces.has(`${MERCHANT}:${ok.nonce}`), ok.nonce).toBe(true)
      }
      // Nothing twice at all: one entry per nonce, one nonce per entry.
      expect([...byKey.values()].every((n) => n === 1)).toBe(true)
      expect(entries.length).toBe(nonces.size)

      const cards = await db.db
        .selectFrom('cards')
        .select(['id', 'biz_card_no', 'point', 'state_version', 'pushed_version'])
        .where('merchant_id', '=', MERCHANT)
        .execute()
      const pending = new Set(
        (
          await db.db
            .selectFrom('outbox')
            .select('collapse_key')
            .where('topic', '=', 'alipay.cardPush')
            .where('status', '=', 'pending')
            .execute()
        ).map((r) => r.collapse_key),
      )
      for (const card of cards) {
        const points = okPoints.get(card.biz_card_no)
        if (!points) {
          continue
        }
        const last = points[points.length - 1]!
        // The last value answered OK, or the one in flight when the process died (sent later).
        expect([last, inFlight.get(card.biz_card_no)], card.biz_card_no).toContain(
          Number(card.point),
        )
        // Will be pushed: the card is ahead of what Alipay got, and its push is queued.
        expect(Number(card.state_version)).toBeGreaterThan(Number(card.pushed_version))
        expect(pending.has(card.id), card.id).toBe(true)
      }

      // The restarted process refuses an answered update sent again (its nonce is stored), and
      // takes a new one.
      const again = okNonces[0]!
      const replay = withReplayGuard(
        {
          templateId: ALIPAY_TEMPLATE,
          bizCardNo: again.bizCardNo,
          point: String(again.point),
          changeReason: 'kill test',
        },
        { nonce: again.nonce },
      )
      expect(
        await post(running.url, { ...replay, sign: signParams(replay, keys.privateKey) }),
      ).toMatchObject({ status: 'FAIL', errcode: 'CRM_NONCE_REPLAYED' })
      expect(await post(running.url, signed(cardNos[0]!, 100_000))).toMatchObject({
        status: 'OK',
      })
      running.child.kill('SIGINT')
      await running.exited
      running = undefined
    }, 120_000)
  })
}
