import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

/** The state of a member's Alipay card, as the CRM learns it from kaguan's cardChange calls. */
export const CardStatus = { None: 'NONE', Active: 'ACTIVE', Deleted: 'DELETED' } as const
export type CardStatus = (typeof CardStatus)[keyof typeof CardStatus]

/** A member of the sample CRM. The CRM is the member system: it issues `bizCardNo`. */
export interface Member {
  /** The CRM's card number: `CRM` + 8-digit sequence. */
  bizCardNo: string
  alipayUserId: string
  name?: string
  mobile?: string
  certNo?: string
  gender?: string
  point: number
  level: string
  /** Stored as text with two decimals, as Alipay shows it. */
  balance: string
  /** The Alipay template of the member's card (from openCardInfo / cardChange). */
  templateId?: string
  /** Alipay's card number, known after cardChange ADD. */
  alipayCardNo?: string
  cardStatus: CardStatus
  createdAt: string
  updatedAt: string
}

/** New-member fields taken from the open-card form. */
export type NewMember = Pick<
  Member,
  'alipayUserId' | 'name' | 'mobile' | 'certNo' | 'gender' | 'templateId'
>

interface StoreFile {
  version: 1
  nextSeq: number
  members: Member[]
}

/** The member list, kept in memory and, when a file is given, saved to it after each change. */
export interface MemberStore {
  list(): readonly Member[]
  findByCardNo(bizCardNo: string): Member | undefined
  findByAlipayUserId(alipayUserId: string): Member | undefined
  /** Finds the member of this Alipay user or registers one; never two members per user. */
  findOrCreate(
    input: NewMember,
    welcomePoints: number,
    /** The new member's level code: one the card template defines; none when undefined. */
    level: string | undefined,
  ): Promise<{ member: Member; created: boolean }>
  update(
    bizCardNo: string,
    patch: Partial<Omit<Member, 'bizCardNo' | 'createdAt'>>,
  ): Promise<Member | undefined>
  /** Waits for pending writes. */
  flush(): Promise<void>
}

/** Opens the store: reads `dataFile` when it exists (memory only when no file is given). */
export async function openMemberStore(dataFile?: string): Promise<MemberStore> {
  let data: StoreFile = { version: 1, nextSeq: 1, members: [] }
  if (dataFile) {
    try {
      data = JSON.parse(await readFile(dataFile, 'utf8')) as StoreFile
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw error
      }
    }
  }
  let writes: Promise<void> = Promise.resolve()

  function persist(): Promise<void> {
    if (!dataFile) {
      return Promise.resolve()
    }
    const file = dataFile
    const snapshot = JSON.stringify(data, null, 2) + '\n'
    // Writes are chained so an older snapshot can never rename over a newer one; temp file +
    // rename means a crash leaves either the old or the new file, never half of one.
    writes = writes
      .catch(() => undefined) // an earlier failed write must not block the later ones
      .then(async () => {
        await mkdir(dirname(file), { recursive: true })
        const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
        await writeFile(temp, snapshot, 'utf8')
        await rename(temp, file)
      })
    return writes
  }

  const now = () => new Date().toISOString()

  return {
    list: () => data.members,
    findByCardNo: (bizCardNo) => data.members.find((m) => m.bizCardNo === bizCardNo),
    findByAlipayUserId: (userId) => data.members.find((m) => m.alipayUserId === userId),
    async findOrCreate(input, welcomePoints, level) {
      // Find and create happen in one synchronous step, so two concurrent calls for one user
      // (kaguan retrying a claim) cannot both register.
      const existing = data.members.find((m) => m.alipayUserId === input.alipayUserId)
      if (existing) {
        return { member: existing, created: false }
      }
      const at = now()
      const member: Member = {
        ...stripUndefined(input),
        bizCardNo: 'CRM' + String(data.nextSeq).padStart(8, '0'),
        point: welcomePoints,
        // A level code the card template defines (kaguan checks it against the template's levels).
        level: level ?? '',
        balance: '0.00',
        cardStatus: CardStatus.None,
        createdAt: at,
        updatedAt: at,
      }
      data.nextSeq += 1
      data.members.push(member)
      await persist()
      return { member, created: true }
    },
    async update(bizCardNo, patch) {
      const member = data.members.find((m) => m.bizCardNo === bizCardNo)
      if (!member) {
        return undefined
      }
      Object.assign(member, stripUndefined(patch), { updatedAt: now() })
      await persist()
      return member
    },
    flush: () => writes,
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}
