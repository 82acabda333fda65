import { fork, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** A request to a bench child process and its answer, over the fork IPC channel. */
interface Envelope {
  id?: number
  cmd?: string
  args?: unknown
  ok?: boolean
  value?: unknown
  error?: string
  ready?: unknown
}

export interface Child {
  proc: ChildProcess
  pid: number
  /** What the child sent when it was ready (its URLs). */
  ready: unknown
  call<T = unknown>(cmd: string, args?: unknown): Promise<T>
  /** Asks the child to stop, then kills it if it has not exited within 10 s. */
  stop(): Promise<void>
}

/** Forks a bench child (a TypeScript file run with tsx, workspace packages from their sources). */
export async function startChild(
  file: string,
  env: Record<string, string>,
  extraExecArgv: string[] = [],
): Promise<Child> {
  const proc = fork(fileURLToPath(new URL(`../${file}`, import.meta.url)), [], {
    execArgv: ['--conditions=@kaguan/source', '--import', 'tsx', ...extraExecArgv],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  let next = 1
  const ready = await new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start within 120 s`)), 120_000)
    proc.once('exit', (code) => reject(new Error(`${file} exited (${code}) before it was ready`)))
    proc.on('message', (m: Envelope) => {
      if (m.ready !== undefined) {
        clearTimeout(timer)
        resolve(m.ready)
        return
      }
      const p = m.id === undefined ? undefined : pending.get(m.id)
      if (p) {
        pending.delete(m.id!)
        if (m.ok) {
          p.resolve(m.value)
        } else {
          p.reject(new Error(`${file} ${m.error}`))
        }
      }
    })
  })
  return {
    proc,
    pid: proc.pid!,
    ready,
    call<T>(cmd: string, args?: unknown) {
      return new Promise<T>((resolve, reject) => {
        const id = next++
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
        proc.send({ id, cmd, args })
      })
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        return
      }
      const exited = new Promise((resolve) => proc.once('exit', resolve))
      proc.send({ cmd: 'stop' })
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}

/** The child side: answers commands with `handlers`, says ready with `ready`. */
export function serveChild(
  ready: unknown,
  handlers: Record<string, (args: never) => unknown>,
  stop: () => Promise<void>,
): void {
  process.on('message', (m: Envelope) => {
    if (m.cmd === 'stop') {
      void stop().finally(() => process.exit(0))
      return
    }
    const handler = m.cmd === undefined ? undefined : handlers[m.cmd]
    void Promise.resolve()
      .then(() => {
        if (!handler) {
          throw new Error(`unknown command ${m.cmd}`)
        }
        return (handler as (args: unknown) => unknown)(m.args)
      })
      .then(
        (value) => process.send!({ id: m.id, ok: true, value }),
        (error: unknown) =>
          process.send!({
            id: m.id,
            ok: false,
            error: error instanceof Error ? error.stack : String(error),
          }),
      )
  })
  // The parent gone (a Ctrl-C, a crash) means this process has nothing left to do.
  process.on('disconnect', () => void stop().finally(() => process.exit(0)))
  process.send!({ ready })
}

/**
 * CPU time (user + system) a process has used, in ms, from /proc (Linux). Per request it is the
 * figure that stays put when other programs share the machine, unlike requests per second.
 */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second).
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return NaN
  }
}

/** Resident set size and its peak, from /proc (Linux), in MB. */
export function rssOf(pid: number): { rssMb: number; peakMb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN)
    return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 }
  } catch {
    return undefined
  }
}
