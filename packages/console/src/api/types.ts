import type { AuditEntryView, CardView, MemberWithCardsView } from '@kaguan/contracts'

export type {
  AuditEntryView as AuditRecord,
  CardView,
  DashboardView as Dashboard,
  MemberWithCardsView as MemberWithCards,
} from '@kaguan/contracts'

/*
 * Answers of admin routes that have no schema in @kaguan/contracts yet, written as the server's
 * module types are (packages/server/src/modules/cards and outbox).
 */
export interface MemberProfile {
  name?: string
  mobile?: string
  certNo?: string
  gender?: string
  birthday?: string
}

export interface PointEntry {
  id: string
  delta: number
  pointAfter: number
  reason: string
  source: string
  createdAt: string
}

export interface CardDetail {
  card: CardView
  member: Omit<MemberWithCardsView, 'cards'> | null
  points: PointEntry[]
  history: AuditEntryView[]
}

export interface OutboxItem {
  id: string
  merchantId: string
  topic: string
  collapseKey: string | null
  payload: unknown
  status: 'pending' | 'running' | 'done' | 'parked'
  attempts: number
  nextAttemptAt: string
  lastError: string | null
  createdAt: string
  updatedAt: string
  doneAt: string | null
}

export interface OutboxAnswer {
  counts: Record<string, number>
  items: OutboxItem[]
  total?: number
  page?: number
  pageSize?: number
}
