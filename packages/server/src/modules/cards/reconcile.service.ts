import { alipayContext } from '../merchants/index.js'
import { handleCardNotification } from './card-events.service.js'
import { repushCard } from './card-state.service.js'
import * as repo from './cards.repository.js'
import type { CardsDeps } from './claim.service.js'

export interface ReconcileReport {
  checked: number
  repushed: string[]
  deleted: string[]
  failed: { cardId: string; error: string }[]
}

export interface ReconcileOptions {
  /** Check only the first `limit` active cards (by id). */
  limit?: number
  /**
   * Called once before the first card (checked 0) and after each card, with how many are checked
   * and how many there are to check (the active cards when the run started, capped by `limit`).
   */
  onProgress?: (checked: number, total: number) => void
}

/** How many cards a run with `limit` will check: what a progress bar counts up to. */
export async function reconcileTotal(
  deps: Pick<CardsDeps, 'db'>,
  merchantId: string,
  limit?: number,
): Promise<number> {
  const active = await repo.countActive(deps.db, merchantId)
  return limit === undefined ? active : Math.min(active, limit)
}

/**
 * Compares every active card with `alipay.marketing.card.query` and repairs drift: a card Alipay no
 * longer shows (empty schema_url) is deleted here (and the CRM told); one whose points, level or
 * balance differ gets a fresh push of kaguan's state.
 */
export async function reconcileCards(
  deps: CardsDeps,
  merchantId: string,
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const ctx = await alipayContext(deps, merchantId)
  const report: ReconcileReport = { checked: 0, repushed: [], deleted: [], failed: [] }
  // Cards opened during the run may be checked too: the total then grows with them.
  let total = await reconcileTotal(deps, merchantId, options.limit)
  const progress = () => {
    total = Math.max(total, report.checked)
    options.onProgress?.(report.checked, total)
  }
  progress()
  let after = ''
  const limit = options.limit ?? Number.MAX_SAFE_INTEGER
  while (report.checked < limit) {
    const page = await repo.listActive(deps.db, merchantId, after, 100)
    if (!page.length) {
      break
    }
    for (const card of page) {
      if (report.checked >= limit) {
        break
      }
      report.checked++
      after = card.id
      try {
        const q = (await ctx.client.queryCard(
          { target_card_no: card.alipay_card_no, target_card_no_type: 'BIZ_CARD' },
          { appAuthToken: ctx.appAuthToken },
        )) as {
          schema_url?: string
          card_info?: { point?: string; level?: string; balance?: string }
        }
        if (!q.schema_url) {
          await handleCardNotification(deps, merchantId, {
            type: 'DELETE',
            alipayCardNo: card.alipay_card_no,
            reason: 'RECONCILE_GONE',
          })
          report.deleted.push(card.id)
        } else {
          const info = q.card_info ?? {}
          const differs =
            Number(info.point ?? 0) !== Number(card.point) ||
            (info.level ?? null) !== (card.level ?? null) ||
            (card.balance !== null && Number(info.balance ?? 0) !== Number(card.balance))
          if (differs) {
            await repushCard(deps, card.id)
            report.repushed.push(card.id)
          }
        }
      } catch (error) {
        report.failed.push({
          cardId: card.id,
          error: error instanceof Error ? error.message : String(error),
        })
      }
      progress()
    }
  }
  return report
}
