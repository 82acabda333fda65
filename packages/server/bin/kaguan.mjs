#!/usr/bin/env node
// The `kaguan` command. From a build (`npm run build`: dist/ beside this folder) it runs the
// compiled CLI in this process; in a checkout without a build it runs the TypeScript sources
// through tsx, as `npm run kaguan` does, relaying stop signals to that child.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const built = new URL('../dist/cli/main.js', import.meta.url)
const source = new URL('../src/cli/main.ts', import.meta.url)

if (existsSync(built)) {
  await import(built.href)
} else if (existsSync(source)) {
  // Resolved from here, not from the caller's folder: `kaguan` may be run from anywhere.
  let tsx
  try {
    tsx = import.meta.resolve('tsx')
  } catch {
    process.stderr.write(
      'kaguan: no build (dist/) and no tsx to run the sources: run `npm install` and `npm run build`\n',
    )
    process.exit(70)
  }
  const child = spawn(
    process.execPath,
    [
      '--conditions=@kaguan/source',
      '--import',
      tsx,
      fileURLToPath(source),
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit' },
  )
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
} else {
  process.stderr.write(
    'kaguan: neither dist/cli/main.js nor src/cli/main.ts is here; run `npm run build`\n',
  )
  process.exit(70)
}
