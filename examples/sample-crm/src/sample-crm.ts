import { randomInt } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  CardChangeType,
  createCoreClient,
  createCrmHandler,
  CrmHandlerError,
  CrmSdkError,
  type CoreResult,
} from '@kaguan/crm-sdk'
import { CardStatus, openMemberStore } from './member-store.js'
import { renderPage, type Notice, type RecordedRequest } from './page.js'

/** Options of {@link startSampleCrm}. */
export interface SampleCrmOptions {
  /** Interface to listen on (default 127.0.0.1). */
  host?: string
  /** Port (default 8082, as in the seed's curl example; 0 = any free port). */
  port?: number
  /** The token kaguan sends in the `token` header (configured in kaguan's business-system settings). */
  token: string
  /** The CRM's RSA private key (PEM or bare base64 PKCS#8); kaguan holds the public key. */
  privateKey: string
  /** kaguan core's base URL, e.g. http://127.0.0.1:8083. */
  kaguanCoreUrl: string
  /** JSON file for the members (atomic writes); in memory when omitted. */
  dataFile?: string
  /** One line per event (requests from kaguan, updates sent to kaguan). */
  log?: (line: string) => void
  /** Points a new member starts with (default 100, so the card visibly shows CRM data). */
  welcomePoints?: number
  /**
   * The level codes of kaguan's card template (its 等级 settings), lowest first: a new member gets
   * the first, the members page offers them all. kaguan refuses a claim whose level the template
   * does not define (CRM_LEVEL_UNKNOWN), so these must be the template's codes, not level names.
   * Default: the demo template's SILVER and GOLD. An empty list answers no level at all.
   */
  levels?: readonly SampleLevel[]
}

/** One level of the card template: its code (what kaguan checks) and a name for the page. */
export interface SampleLevel {
  code: string
  name?: string
}

/** The demo template's levels (packages/server/src/cli/commands/demo/setup.ts). */
export const DEFAULT_LEVELS: readonly SampleLevel[] = [
  { code: 'SILVER', name: '银卡会员' },
  { code: 'GOLD', name: '金卡会员' },
]

/** A running sample CRM. */
export interface SampleCrm {
  url: string
  close(): Promise<void>
  /** What kaguan sent to the three CRM endpoints (authenticated, parsed bodies), oldest first. */
  requests: ReadonlyArray<RecordedRequest>
}

const MAX_RECORDED = 1000
const MAX_FORM_BYTES = 16 * 1024

/**
 * Starts the sample CRM: the three endpoints kaguan calls (`/card/openCardInfo`, `/card/cardChange`,
 * `/card/mdCodeChange`, token-checked by `@kaguan/crm-sdk`), a members page at `/` whose form pushes
 * point/level changes to kaguan's `/card/update`, and `/api/members` (JSON).
 */
export async function startSampleCrm(options: SampleCrmOptions): Promise<SampleCrm> {
  const log = options.log ?? (() => {})
  const levels = options.levels ?? DEFAULT_LEVELS
  const store = await openMemberStore(options.dataFile)
  const core = createCoreClient({ baseUrl: options.kaguanCoreUrl, privateKey: options.privateKey })
  const requests: RecordedRequest[] = []
  const notices = new Map<string, Notice>()
  const codes = new Map<string, { alipayUserId: string; expiresAt: number }>()

  const crm = createCrmHandler({
    token: options.token,
    onRequest: ({ path, body }) => {
      requests.push({ path, body, at: new Date().toISOString() })
      if (requests.length > MAX_RECORDED) {
        requests.shift()
      }
      log(`kaguan → ${path} ${JSON.stringify(body)}`)
    },
    onError: (error, path) => log(`${path} failed: ${String(error)}`),

    async openCardInfo(input) {
      if (input.bizCardNo) {
        // kaguan asks about a member it already knows: answer from our records, never register.
        const member = store.findByCardNo(input.bizCardNo)
        if (!member) {
          throw new CrmHandlerError(404, 'MEMBER_NOT_FOUND', `no member ${input.bizCardNo}`)
        }
        return answer(member)
      }
      const { member, created } = await store.findOrCreate(
        {
          alipayUserId: input.alipayUserId,
          name: input.name,
          mobile: input.mobile,
          certNo: input.certNo,
          gender: input.gender,
          templateId: input.templateId,
        },
        options.welcomePoints ?? 100,
        levels[0]?.code,
      )
      if (created) {
        log(`registered ${member.bizCardNo} for ${member.alipayUserId}`)
      }
      return answer(member)
    },

    async cardChange(input) {
      const member = store.findByCardNo(input.bizCardNo)
      if (!member) {
        // Permanent: retrying will not make the member appear, so acknowledge and log.
        log(`cardChange ${input.type} for unknown member ${input.bizCardNo}: ignored`)
        return true
      }
      // Setting the state (not toggling or counting) makes a repeated call harmless.
      await store.update(member.bizCardNo, {
        templateId: input.templateId,
        alipayCardNo: input.alipayCardNo,
        cardStatus: input.type === CardChangeType.Add ? CardStatus.Active : CardStatus.Deleted,
      })
      return true
    },

    mdCodeChange(input) {
      const member = store.findByAlipayUserId(input.alipayUserId)
      if (!member) {
        return Promise.reject(
          new CrmHandlerError(404, 'MEMBER_NOT_FOUND', `no member for ${input.alipayUserId}`),
        )
      }
      const now = Date.now()
      for (const [code, entry] of codes) {
        if (entry.expiresAt < now) {
          codes.delete(code)
        }
      }
      // 18 digits starting with 88: scannable as a barcode, unlikely to collide with card numbers.
      const codeValue =
        '88' +
        String(randomInt(0, 1e8)).padStart(8, '0') +
        String(randomInt(0, 1e8)).padStart(8, '0')
      const expiresAt = now + input.expireTime * 1000
      codes.set(codeValue, { alipayUserId: input.alipayUserId, expiresAt })
      return Promise.resolve({
        alipayUserId: input.alipayUserId,
        codeValue,
        codeExpire: new Date(expiresAt),
      })
    },
  })

  async function updateFromPage(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req)
    const bizCardNo = form.get('bizCardNo') ?? ''
    const pointText = (form.get('point') ?? '').trim()
    const level = (form.get('level') ?? '').trim()
    const changeReason = (form.get('changeReason') ?? '').trim() || 'CRM 调整'
    const member = store.findByCardNo(bizCardNo)
    let notice: Notice
    if (!member) {
      notice = { ok: false, text: `FAIL：会员 ${bizCardNo} 不存在` }
    } else if (!/^\d+$/.test(pointText)) {
      notice = { ok: false, text: 'FAIL：积分必须是非负整数' }
    } else {
      // The CRM is the member system: its own record changes first, then kaguan is told.
      await store.update(bizCardNo, { point: Number(pointText), level: level || member.level })
      if (!member.templateId) {
        notice = {
          ok: false,
          text: `已保存，但 ${bizCardNo} 还没有支付宝会员卡（未开卡），未同步到卡管`,
        }
      } else {
        notice = describeResult(
          bizCardNo,
          await pushUpdate({
            templateId: member.templateId,
            bizCardNo,
            point: pointText,
            level: level || member.level,
            changeReason,
          }),
        )
      }
    }
    log(`page update ${bizCardNo}: ${notice.text}`)
    const id = String(randomInt(1e9, 1e10))
    notices.set(id, notice)
    if (notices.size > 50) {
      notices.delete(notices.keys().next().value as string)
    }
    res.writeHead(303, { location: `/?notice=${id}` }).end()
  }

  async function pushUpdate(
    params: Parameters<typeof core.updateCard>[0],
  ): Promise<CoreResult | CrmSdkError> {
    try {
      return await core.updateCard(params)
    } catch (error) {
      if (error instanceof CrmSdkError) {
        return error
      }
      throw error
    }
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sample-crm.invalid')
    if (url.pathname.startsWith('/card/')) {
      return crm(req, res)
    }
    if (req.method === 'GET' && url.pathname === '/') {
      const notice = notices.get(url.searchParams.get('notice') ?? '')
      return sendHtml(
        res,
        renderPage({
          members: store.list(),
          notice,
          requests,
          kaguanCoreUrl: options.kaguanCoreUrl,
          levels,
        }),
      )
    }
    if (req.method === 'GET' && url.pathname === '/api/members') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
      return res.end(JSON.stringify({ members: store.list() }))
    }
    if (req.method === 'POST' && url.pathname === '/members/update') {
      updateFromPage(req, res).catch((error: unknown) => {
        log(`page update failed: ${String(error)}`)
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
        }
        res.end('内部错误')
      })
      return
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('未找到')
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 8082, options.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `http://${host}:${address.port}`
  log(`sample CRM listening on ${url} (kaguan core: ${options.kaguanCoreUrl})`)

  return {
    url,
    requests,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await store.flush()
    },
  }
}

function answer(member: { bizCardNo: string; point: number; level: string; balance: string }) {
  return {
    bizCardNo: member.bizCardNo,
    cardNo: member.bizCardNo,
    point: member.point,
    // Only a code of the template's levels, and none when the template has no levels.
    ...(member.level ? { level: member.level } : {}),
    balance: member.balance,
  }
}

function describeResult(bizCardNo: string, result: CoreResult | CrmSdkError): Notice {
  if (result instanceof CrmSdkError) {
    return { ok: false, text: `已保存，但同步卡管失败：${result.message}` }
  }
  if (result.status === 'OK') {
    return { ok: true, text: `OK：${bizCardNo} 已同步到卡管` }
  }
  return {
    ok: false,
    text: `FAIL：${result.errmsg}${result.errcode ? `（${result.errcode}）` : ''}`,
  }
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_FORM_BYTES) {
      throw new Error('form too large')
    }
    chunks.push(chunk as Buffer)
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}

function sendHtml(res: ServerResponse, html: string): void {
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
  })
  res.end(html)
}
