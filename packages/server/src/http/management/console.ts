import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance, FastifyReply } from 'fastify'

/**
 * The console's Content-Security-Policy. A Vite build loads its scripts from files (no inline
 * script); Ant Design writes its CSS-in-JS into <style> elements, hence 'unsafe-inline' for styles
 * only. Images may come from Alipay's CDN (uploaded logos and backgrounds) or the emulator.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob: https: http:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

/** Where a built console is: `dist/` of the `@kaguan/console` package, else of its workspace folder. */
export function findConsoleDist(): string | undefined {
  const candidates: string[] = []
  try {
    const require = createRequire(import.meta.url)
    candidates.push(join(dirname(require.resolve('@kaguan/console/package.json')), 'dist'))
  } catch {
    // Not installed as a package (or its exports hide package.json): try the repository layout.
  }
  // src/http/management and dist/http/management are both four levels below packages/.
  candidates.push(resolve(dirname(fileURLToPath(import.meta.url)), '../../../../console/dist'))
  return candidates.find((dir) => existsSync(join(dir, 'index.html')))
}

function isApiPath(url: string): boolean {
  const path = url.split('?')[0]!
  return path === '/api' || path.startsWith('/api/')
}

/**
 * Serves the built console at `/`: its files as they are (hashed assets cached for a year, the
 * HTML never cached so a new build shows at once), and index.html for any other GET outside
 * `/api`, so that the console's own routes (`/members/…`) survive a reload. `/api` keeps answering
 * JSON, including its 404s.
 */
export async function registerConsole(app: FastifyInstance, root: string): Promise<void> {
  await app.register(async (scope) => {
    await scope.register(fastifyStatic, {
      root,
      // Files are routed one by one (found at start-up) so the fallback below can own `/*`.
      wildcard: false,
      index: 'index.html',
      schemaHide: true,
      // Cache-Control is ours (below): Vite's hashed names change with their content, others do not.
      cacheControl: false,
      setHeaders: (res, path) => {
        const hashed = /[\\/]assets[\\/]/.test(path)
        res.setHeader('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache')
        if (path.endsWith('.html')) {
          res.setHeader('content-security-policy', CONSOLE_CSP)
        }
      },
    })
    scope.get('/*', { schema: { hide: true } }, (request, reply: FastifyReply) => {
      if (isApiPath(request.url)) {
        return reply.callNotFound()
      }
      return reply.sendFile('index.html')
    })
  })
}

/** Headers every management answer carries: no sniffing, no framing, no referrer to elsewhere. */
export function addSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply) => {
    void reply.header('x-content-type-options', 'nosniff')
    void reply.header('x-frame-options', 'DENY')
    void reply.header('referrer-policy', 'same-origin')
  })
}
