/**
 * Bench child, the reference: a bare Fastify JSON POST route on its own process, answering what
 * kaguan answers. Same Node, same load generator: the ceiling any Fastify service here can reach.
 */
import Fastify from 'fastify'
import { serveChild } from './lib/ipc.js'

const app = Fastify({ logger: false })
app.post('/card/update', async (request) => {
  const body = request.body as Record<string, unknown>
  return { status: typeof body.sign === 'string' ? 'OK' : 'FAIL' }
})
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
serveChild(
  { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` },
  {},
  () => app.close(),
)
