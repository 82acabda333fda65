import { alipayContext } from '../merchants/index.js'
import { CardErrors } from './cards.errors.js'
import type { CardsDeps } from './claim.service.js'
import { reconcileCards, reconcileTotal, type ReconcileReport } from './reconcile.service.js'

export type ReconcileJobStatus = 'running' | 'done' | 'failed'

/** A reconcile run as the console polls it. */
export interface ReconcileJob {
  jobId: string
  merchantId: string
  status: ReconcileJobStatus
  checked: number
  total: number
  startedAt: string
  finishedAt: string | null
  /** When done. */
  report: ReconcileReport | null
  /** When failed: why the run stopped (one card failing does not fail the run; see report.failed). */
  error: string | null
}

/**
 * The jobs live in the process that runs them, not in a table: a reconcile only makes sense while
 * the process doing the Alipay calls is alive, a restart ends the run anyway (starting again is
 * safe: reconcile is idempotent), and the management role runs as one process (it is never exposed
 * to the internet, so it is not scaled out behind a balancer). So: per process, lost on restart
 * (a poll then answers RECONCILE_JOB_NOT_FOUND and the console offers to start again). Each
 * merchant keeps its latest job only, so memory stays bounded. Keyed by the database handle too,
 * so two kaguan instances in one process (the tests, both dialects) never see each other's jobs.
 */
const jobsByDb = new WeakMap<object, Map<string, ReconcileJob>>()

function jobsOf(deps: Pick<CardsDeps, 'db'>): Map<string, ReconcileJob> {
  let jobs = jobsByDb.get(deps.db)
  if (!jobs) {
    jobs = new Map()
    jobsByDb.set(deps.db, jobs)
  }
  return jobs
}

const view = (job: ReconcileJob): ReconcileJob => ({
  ...job,
  report: job.report && { ...job.report },
})

/**
 * Starts reconciling the merchant's cards in the background and answers at once with the job
 * (`started: true`). One job per merchant at a time: while one runs, this answers that job
 * (`started: false`) and starts nothing. The merchant's Alipay settings are checked before
 * answering, so a merchant without an Alipay app gets that error, not a failed job.
 */
export async function startReconcileJob(
  deps: CardsDeps,
  merchantId: string,
  options: { limit?: number } = {},
): Promise<{ job: ReconcileJob; started: boolean }> {
  const jobs = jobsOf(deps)
  const current = jobs.get(merchantId)
  if (current?.status === 'running') {
    return { job: view(current), started: false }
  }
  const job: ReconcileJob = {
    jobId: deps.ids.next('rcj'),
    merchantId,
    status: 'running',
    checked: 0,
    total: 0,
    startedAt: deps.clock.now().toISOString(),
    finishedAt: null,
    report: null,
    error: null,
  }
  // Registered before the first await, so a second start in the meantime answers this one.
  jobs.set(merchantId, job)
  try {
    await alipayContext(deps, merchantId)
    job.total = await reconcileTotal(deps, merchantId, options.limit)
  } catch (error) {
    if (current) {
      jobs.set(merchantId, current)
    } else {
      jobs.delete(merchantId)
    }
    throw error
  }
  void reconcileCards(deps, merchantId, {
    ...options,
    onProgress(checked, total) {
      job.checked = checked
      job.total = total
    },
  }).then(
    (report) => {
      job.status = 'done'
      job.checked = report.checked
      job.report = report
      job.finishedAt = deps.clock.now().toISOString()
      deps.log.info({ merchantId, jobId: job.jobId, checked: report.checked }, 'reconcile done')
    },
    (error: unknown) => {
      job.status = 'failed'
      job.error = error instanceof Error ? error.message : String(error)
      job.finishedAt = deps.clock.now().toISOString()
      deps.log.warn({ merchantId, jobId: job.jobId, err: error }, 'reconcile failed')
    },
  )
  return { job: view(job), started: true }
}

/** The merchant's reconcile job `jobId`; RECONCILE_JOB_NOT_FOUND when this process has not got it. */
export function getReconcileJob(
  deps: Pick<CardsDeps, 'db'>,
  merchantId: string,
  jobId: string,
): ReconcileJob {
  const job = jobsOf(deps).get(merchantId)
  if (!job || job.jobId !== jobId) {
    throw CardErrors.reconcileJobNotFound(jobId)
  }
  return view(job)
}
