// Runs a TypeScript entry point with tsx, resolving workspace packages to their sources
// (the "@kaguan/source" export condition), so the demo needs no build step.
import { spawn } from 'node:child_process'

const [entry, ...args] = process.argv.slice(2)
const child = spawn(
  process.execPath,
  ['--conditions=@kaguan/source', '--import', 'tsx', entry, ...args],
  {
    stdio: 'inherit',
  },
)
// Ctrl-C reaches the child through the terminal's process group; we only relay its exit.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => {})
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
