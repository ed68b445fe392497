import cluster from 'node:cluster'
import { createWriteStream, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { pino, type DestinationStream, type Logger } from 'pino'
import { scrubText } from './mask.ts'

export type { Logger } from 'pino'

/**
 * Keys whose values are personal data or secrets wherever they appear in a log object.
 * The gateway never logs message bodies on purpose; this list is the safety net.
 */
const REDACT = [
  'body', '*.body', 'envelope', '*.envelope', 'payload', '*.payload', 'plaintext', '*.plaintext',
  'name', '*.name', '*.*.name', 'idNumber', '*.idNumber', '*.*.idNumber', 'phone', '*.phone', '*.*.phone',
  'address', '*.address', '*.*.address', 'password', '*.password', 'secret', '*.secret', 'token', '*.token',
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'authorization',
  'privateKey', '*.privateKey', 'key', '*.key',
]

export interface LogOptions {
  readonly level: string
  readonly file?: string | undefined
  /** A destination for tests (all gateway logs of a test go to one place). */
  readonly stream?: DestinationStream
}

/** The one logger factory: JSON lines, personal data redacted by key and scrubbed in text. */
export function createLogger(options: LogOptions): Logger {
  let destination: DestinationStream | undefined = options.stream
  if (!destination && options.file) {
    mkdirSync(dirname(options.file), { recursive: true })
    destination = createWriteStream(options.file, { flags: 'a' })
  }
  return pino(
    {
      level: options.level,
      // One of several gateway processes (`processes`) says which.
      base: { svc: 'tongban', ...(cluster.isWorker && cluster.worker !== undefined ? { proc: cluster.worker.id } : {}) },
      redact: { paths: REDACT, censor: '[redacted]' },
      hooks: {
        // The last line of defence: every finished line (messages, serialized errors, any field)
        // is scrubbed for ID and mobile numbers — one pass over the JSON text, after serializers.
        streamWrite: (line: string) => scrubText(line),
      },
      serializers: {
        err: (err: unknown) => serializeError(err),
        req: (req: { id?: unknown; method?: string; url?: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
    },
    destination ?? pino.destination(1),
  )
}

function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) }
  const e = err as Error & { code?: unknown }
  return { type: e.name, code: e.code, message: e.message, stack: e.stack }
}
