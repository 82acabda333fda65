import type { FastifyRequest } from 'fastify'

/** Who is acting, for the audit log: the signed-in admin and the request id. */
export function actorOf(request: FastifyRequest): { actor: string; requestId: string } {
  return { actor: `admin:${request.principal?.userId ?? 'unknown'}`, requestId: request.id }
}
