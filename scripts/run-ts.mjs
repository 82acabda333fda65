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
// Relay stop signals: `kill <pid>` or a service manager reaches only this process. A Ctrl-C also
// reaches the child through the terminal's process group; kaguan counts that repeat once.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
