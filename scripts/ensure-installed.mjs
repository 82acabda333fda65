// Installs the workspace's dependencies when they are missing or older than the lock file, and
// builds the console when its dist/ is missing or older than its sources, so that `npm start` and
// `npm test` work on a fresh clone with nothing but Node and npm.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync, readdirSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 20 || (major === 20 && minor < 12)) {
  console.error(`kaguan needs Node.js 20.12 or newer; this is ${process.version}.`)
  process.exit(1)
}

const root = new URL('..', import.meta.url).pathname
const manifests = ['package.json', 'package-lock.json']
for (const dir of ['packages', 'examples']) {
  if (!existsSync(join(root, dir))) continue
  for (const name of readdirSync(join(root, dir))) {
    if (existsSync(join(root, dir, name, 'package.json')))
      manifests.push(join(dir, name, 'package.json'))
  }
}
const hash = createHash('sha256')
for (const file of manifests)
  if (existsSync(join(root, file))) hash.update(readFileSync(join(root, file)))
const digest = hash.digest('hex')
const stamp = join(root, 'node_modules', '.kaguan-install-stamp')

if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== digest) {
  const command = existsSync(join(root, 'package-lock.json')) ? 'ci' : 'install'
  console.log(
    `kaguan: installing dependencies (npm ${command}); the first time builds SQLite and takes a few minutes…`,
  )
  const result = spawnSync('npm', [command, '--no-fund', '--no-audit'], {
    cwd: root,
    stdio: 'inherit',
  })
  if (result.status !== 0) process.exit(result.status ?? 1)
  writeFileSync(stamp, digest)
}

// The management role serves the console from packages/console/dist.
const built = spawnSync(process.execPath, [join(root, 'scripts', 'build-console.mjs')], {
  stdio: 'inherit',
})
if (built.status !== 0) process.exit(built.status ?? 1)
