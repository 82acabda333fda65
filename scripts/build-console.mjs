// Builds the console (packages/console/dist, served by the management role at `/`) when dist/ is
// missing or older than a source of its own or of the contracts it imports; otherwise it only
// walks the folders. Run by `npm start` / `npm test` (ensure-installed.mjs) and the console's
// browser test.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const consoleDir = join(root, 'packages', 'console')

/** The newest modification time of the files under `path` (0 when it does not exist). */
function newest(path) {
  if (!existsSync(path)) return 0
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  let max = 0
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)))
  return max
}

if (existsSync(join(consoleDir, 'package.json'))) {
  const built = newest(join(consoleDir, 'dist', 'index.html'))
  const sources = Math.max(
    ...['src', 'index.html', 'vite.config.ts', 'package.json'].map((f) =>
      newest(join(consoleDir, f)),
    ),
    newest(join(root, 'packages', 'contracts', 'src')),
  )
  if (built < sources) {
    console.log('kaguan: building the console (packages/console/dist)…')
    const result = spawnSync('npm', ['run', 'build', '-w', '@kaguan/console'], {
      cwd: root,
      stdio: 'inherit',
    })
    if (result.status !== 0) process.exit(result.status ?? 1)
  }
}
