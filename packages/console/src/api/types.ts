/**
 * Answers of admin routes that have no schema in @kaguan/contracts yet, written as the server's
 * module types are (packages/server/src/modules/cards, members, outbox, audit).
 */
export interface CardView {
  id: string
  merchantId: string
  memberId: string
  templateId: string
  alipayTemplateId: string
  alipayUserId: string
  bizCardNo: string
  alipayCardNo: string
  status: 'active' | 'deleted'
  point: number
  level: string | null
  balance: string | null
  syncPending: boolean
  openDate: string
  validDate: string
  outString: string | null
  deletedAt: string | null
  createdAt: string
}

export interface MemberProfile {
  name?: string
  mobile?: string
  certNo?: string
  gender?: string
  birthday?: string
}

export interface MemberWithCards {
  id: string
  merchantId: string
  alipayUserId: string
  bizCardNo: string
  source: 'kaguan' | 'crm'
  masked: MemberProfile
  createdAt: string
  cards: CardView[]
}

export interface AuditRecord {
  id: string
  merchantId: string | null
  actor: string
  action: string
  target: { type: string; id: string } | null
  before: unknown
  after: unknown
  requestId: string | null
  createdAt: string
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
  member: (MemberWithCards & { profile: MemberProfile }) | null
  points: PointEntry[]
  history: AuditRecord[]
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

export interface Dashboard {
  claimsPerDay: { date: string; count: number }[]
  activeCards: number
  pointsIssued: number
  pointsRedeemed: number
  outbox: { pending: number; parked: number }
  recentClaimFailures: { at: string; errcode: string; reason: string; memberRef?: string }[]
}
