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
      base: { svc: 'tongban' },
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: {
        // Free text (messages, error texts) is scrubbed for ID and phone numbers as a last line of defence.
        log: (obj) => scrubObject(obj) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrubText(a) : a)) as Parameters<typeof method>
          method.apply(this, scrubbed)
        },
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
  if (!(err instanceof Error)) return { message: scrubText(String(err)) }
  const e = err as Error & { code?: unknown }
  return { type: e.name, code: e.code, message: scrubText(e.message), stack: e.stack ? scrubText(e.stack) : undefined }
}

function scrubObject(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value)
  if (depth > 6 || typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) return value.map((v) => scrubObject(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = scrubObject(v, depth + 1)
  return out
}
