import { Writable } from 'node:stream'
import { createLogger, type Logger } from '../../src/shared/log.js'

/** A real pino logger (same redaction as production) whose lines a test can read back. */
export function capturingLogger(level = 'debug'): {
  log: Logger
  lines: () => string[]
  text: () => string
} {
  const chunks: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'))
      cb()
    },
  })
  const log = createLogger({ level, destination })
  const text = () => chunks.join('')
  return { log, text, lines: () => text().split('\n').filter(Boolean) }
}
