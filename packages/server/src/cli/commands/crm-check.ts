import { existsSync, readFileSync } from 'node:fs'
import {
  checkCrm,
  CheckStatus,
  createCrmPort,
  type CrmCheckReport,
  type CrmCheckRow,
} from '../../modules/crm/index.js'
import { loadConfigFromProcess } from '../../config.js'
import { openDb } from '../../db/db.js'
import { getTemplate, templateByAlipayId } from '../../modules/templates/index.js'
import { AppError, ErrorKind } from '../../shared/errors.js'
import { UsageError } from '../usage.js'

const DEFAULT_TIMEOUT_MS = 5_000

const MARK: Readonly<Record<CheckStatus, string>> = {
  [CheckStatus.Pass]: '✓',
  [CheckStatus.Fail]: '✗',
  [CheckStatus.Warn]: '!',
  [CheckStatus.Skip]: '-',
}

/**
 * `kaguan crm-check --url URL --token TOKEN [--public-key KEY|FILE] [--json] [--timeout-ms N]
 * [--template ID [--config FILE]]`: runs the CRM conformance checks and prints a table (or the report as JSON). Exit 0 when nothing
 * failed, 1 otherwise; a missing or malformed flag is a UsageError (exit 2).
 */
export async function runCrmCheck(opts: {
  url?: string
  token?: string
  'public-key'?: string
  json?: boolean
  'timeout-ms'?: string
  template?: string
  config?: string
}): Promise<number> {
  if (!opts.url) {
    throw new UsageError('crm-check: --url is required (the CRM base URL)')
  }
  if (!opts.token) {
    throw new UsageError('crm-check: --token is required (the token kaguan sends)')
  }
  let url: URL
  try {
    url = new URL(opts.url)
  } catch {
    throw new UsageError(`crm-check: --url "${opts.url}" is not a URL (e.g. http://127.0.0.1:8082)`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`crm-check: --url must start with http:// or https://`)
  }
  const timeoutText = opts['timeout-ms'] ?? String(DEFAULT_TIMEOUT_MS)
  const timeoutMs = Number(timeoutText)
  if (!/^\d+$/.test(timeoutText) || timeoutMs < 1) {
    throw new UsageError(`crm-check: --timeout-ms "${timeoutText}" must be a positive whole number`)
  }
  const template = opts.template === undefined ? undefined : await templateLevels(opts)
  const report = await checkCrm(createCrmPort(), {
    baseUrl: opts.url,
    token: opts.token,
    timeoutMs,
    ...(template
      ? {
          levelCodes: template.levelCodes,
          ...(template.alipayTemplateId ? { templateId: template.alipayTemplateId } : {}),
        }
      : {}),
    ...(opts['public-key'] === undefined ? {} : { publicKey: readKeyArgument(opts['public-key']) }),
  })
  process.stdout.write(
    opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatCrmCheck(report, timeoutMs),
  )
  return report.ok ? 0 : 1
}

/**
 * `--template`: kaguan's template id (`tpl_…`) or Alipay's, read from kaguan's database (the
 * configured one), so the check can say when the CRM answers a level the template lacks.
 */
async function templateLevels(opts: {
  template?: string
  config?: string
}): Promise<{ levelCodes: string[]; alipayTemplateId: string | undefined }> {
  const id = opts.template ?? ''
  if (!id) {
    throw new UsageError("crm-check: --template needs a template id (tpl_… or Alipay's)")
  }
  const config = loadConfigFromProcess({ configFile: opts.config })
  const handle = openDb(config.database)
  try {
    const template = id.startsWith('tpl_')
      ? await getTemplate(handle, id)
      : await templateByAlipayId(handle, id)
    if (!template) {
      throw new AppError(
        ErrorKind.NotFound,
        'TEMPLATE_NOT_FOUND',
        `--template ${id}: no template of this kaguan (${config.database.url.startsWith('sqlite:') ? config.database.url : 'the configured database'}) has that id`,
      )
    }
    return {
      levelCodes: template.spec.levels.map((l) => l.code),
      alipayTemplateId: template.alipayTemplateId ?? undefined,
    }
  } finally {
    await handle.close()
  }
}

/** `--public-key` takes the key itself (PEM or base64) or a path to a file holding it. */
function readKeyArgument(value: string): string {
  if (value.includes('-----BEGIN')) {
    return value
  }
  // A base64 key contains '/' too, so "is it a path" is decided by the file existing.
  if (existsSync(value)) {
    return readFileSync(value, 'utf8')
  }
  return value
}

/**
 * Terminal columns a string takes: CJK ideographs and full-width forms take two, so the zh-CN
 * labels line up with the English ones.
 */
function displayWidth(text: string): number {
  let width = 0
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0
    const wide =
      (cp >= 0x1100 && cp <= 0x115f) ||
      (cp >= 0x2e80 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) ||
      (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6)
    width += wide ? 2 : 1
  }
  return width
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)))
}

/** The report as a fixed-width table, a fix line under each failure or warning, and a summary. */
export function formatCrmCheck(report: CrmCheckReport, timeoutMs: number): string {
  const columns: Array<(row: CrmCheckRow) => string> = [
    (r) => r.id,
    (r) => r.endpoint,
    (r) => r.what,
  ]
  const headers = ['检查 check', '接口 endpoint', '内容 what']
  const widths = columns.map((col, i) =>
    Math.max(displayWidth(headers[i] ?? ''), ...report.checks.map((r) => displayWidth(col(r)))),
  )
  const line = (mark: string, cells: string[], detail: string) =>
    `${mark}  ${cells.map((c, i) => pad(c, widths[i] ?? 0)).join('  ')}  ${detail}`.trimEnd()
  const out = [
    `kaguan crm-check ${report.url} (timeout ${timeoutMs} ms, probe alipayUserId ${report.probeUserId})`,
    '',
    line(' ', headers, '结果 detail'),
  ]
  for (const row of report.checks) {
    out.push(
      line(
        MARK[row.status],
        columns.map((col) => col(row)),
        row.detail,
      ),
    )
    if (row.fix && (row.status === CheckStatus.Fail || row.status === CheckStatus.Warn)) {
      out.push(`   修复 fix: ${row.fix}`)
    }
  }
  out.push('')
  if (report.signingHint) {
    out.push(...report.signingHint, '')
  }
  const skipped = report.skipped > 0 ? `, ${report.skipped} skipped` : ''
  out.push(
    `${report.passed} passed, ${report.failed} failed, ${report.warnings} warnings${skipped}`,
  )
  return `${out.join('\n')}\n`
}
