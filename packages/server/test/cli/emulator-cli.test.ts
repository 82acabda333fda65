import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = new URL('../../../../', import.meta.url).pathname

describe('kaguan emulator', () => {
  it('runs the offline Alipay on its own, keeps its state in the data folder, and stops on SIGINT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kaguan-emu-'))
    const child = spawn(
      process.execPath,
      [
        '--conditions=@kaguan/source',
        '--import',
        'tsx',
        join(root, 'packages/server/src/cli/main.ts'),
        'emulator',
        '--port',
        '0',
      ],
      {
        cwd: root,
        env: {
          ...Object.fromEntries(
            Object.entries(process.env).filter(([k]) => !k.startsWith('KAGUAN_')),
          ),
          KAGUAN_DATA_DIR: dir,
        },
      },
    )
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    const deadline = Date.now() + 20_000
    let url: string | undefined
    while (!url && Date.now() < deadline) {
      url = /Alipay emulator on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1]
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(url, out).toBeDefined()
    const user = await fetch(`${url}/__emulator/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    expect(((await user.json()) as { userId: string }).userId).toMatch(/^2088\d{12}$/)
    expect((await fetch(`${url}/wallet`)).status).toBe(200)
    child.kill('SIGINT')
    expect(await exited).toBe(0)
  })

  it('takes --data-dir as demo does, creating the folder, and answers /healthz', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kaguan-emu-')), 'not', 'yet')
    const child = spawn(
      process.execPath,
      [
        '--conditions=@kaguan/source',
        '--import',
        'tsx',
        join(root, 'packages/server/src/cli/main.ts'),
        'emulator',
        '--port',
        '0',
        '--data-dir',
        dir,
      ],
      {
        cwd: root,
        env: Object.fromEntries(
          Object.entries(process.env).filter(([k]) => !k.startsWith('KAGUAN_')),
        ),
      },
    )
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    const deadline = Date.now() + 20_000
    let url: string | undefined
    while (!url && Date.now() < deadline) {
      url = /Alipay emulator on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1]
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(url, out).toBeDefined()
    const health = await fetch(`${url}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok', service: 'alipay-emulator' })
    expect(existsSync(join(dir, 'emulator.sqlite'))).toBe(true)
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })
})
