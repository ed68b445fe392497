import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { Ajv, type ErrorObject } from 'ajv'
import { AddressSet } from '../util/cidr.ts'
import { closest } from './hints.ts'

/** Where the native addon runs each SM2 operation: handed to libuv's threadpool, or on the event loop that asks. */
export type Sm2Thread = 'threadpool' | 'event-loop'

/**
 * `crypto.sm2Thread` for this process: as set, or with `auto`, the event loop for a process that
 * serves the API and runs no delivery workers, the threadpool otherwise (a delivery worker, or a
 * process doing both): what cost the 2-core machine of docs/performance.md least ("SM2 on the
 * event loop").
 */
export function sm2ThreadOf(config: Pick<Config, 'crypto' | 'http' | 'workers'>): Sm2Thread {
  const t = config.crypto.sm2Thread
  if (t !== 'auto') return t
  return config.http && !config.workers ? 'event-loop' : 'threadpool'
}

/** The validated, frozen gateway configuration (schemas/config.v1.json). */
export interface Config {
  readonly gatewayId: string
  readonly listen: { readonly host: string; readonly port: number }
  readonly databaseUrl: string
  readonly dbSchema: string
  readonly redisUrl: string
  readonly redisPrefix: string
  /** Redis Sentinels (`host:port`): when set, they name the Redis master; redisUrl then gives only its database, credentials and TLS. */
  readonly redisSentinels: readonly string[]
  /** The master's name as the Sentinels know it. */
  readonly redisSentinelName: string
  readonly keysDir: string
  readonly directoryFile: string
  /** Start even with the published sample keys of certs-example/ (local trials only). */
  readonly allowSampleKeys: boolean
  readonly workers?: boolean
  readonly http?: boolean
  /** Gateway processes on this host sharing its port (node:cluster); 1: this process alone. */
  readonly processes: number
  readonly limits: {
    readonly bodyBytes: number; readonly replayWindowSeconds: number; readonly tokenTtlSeconds: number
    /** POST /v1/batches: the largest request body, and the most messages in one batch (批量办理). */
    readonly batchBytes: number; readonly batchMessages: number
    readonly tokenRequestsPerMinute: number; readonly adapterRequestsPerMinute: number
  }
  readonly delivery: {
    readonly attempts: number
    readonly backoffMs: number
    readonly maxBackoffMs: number
    readonly maxAgeSeconds: number
    readonly sweepIntervalMs: number
    readonly sweepGraceMs: number
    readonly concurrency: number
    readonly lockMs: number
    readonly circuitFailures: number
    readonly circuitOpenMs: number
  }
  readonly queries: { readonly timeoutMs: number; readonly maxAnswerBytes: number; readonly breakerFailures: number; readonly breakerResetMs: number }
  readonly deadlines: { readonly checkIntervalMs: number; readonly workingDays: Readonly<Record<string, number>>; readonly hours: Readonly<Record<string, number>> }
  /** Attachments (申请材料): the largest file, the most one message names (bytes and count), and how long an unnamed upload is kept. */
  readonly attachments: { readonly maxBytes: number; readonly maxMessageBytes: number; readonly maxPerMessage: number; readonly keepUnreferencedHours: number }
  /** What the gateway keeps, and for how long (docs/configuration.md "Retention"). */
  readonly retention: { readonly purgeAfterDays: number; readonly keepMonths: number; readonly checkIntervalMs: number }
  readonly log: { readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'; readonly file?: string }
  /** `sm2Thread`: where the addon's SM2 runs (sm2ThreadOf). */
  readonly crypto: { readonly smBackend: 'auto' | 'native' | 'js'; readonly sm2Thread: 'auto' | Sm2Thread }
  /** Trust anchors (CA certificates, each with an optional CRL) for partner certificates. */
  readonly pki: { readonly anchors: ReadonlyArray<{ readonly file: string; readonly crl?: string }>; readonly requireCertificates: boolean }
  readonly metrics: { readonly enabled: boolean; readonly host: string; readonly port: number }
  /** The reverse proxies (addresses/CIDRs) whose X-Forwarded-For is believed; empty: none. */
  readonly trustProxy: readonly string[]
  /** Per-participant budgets of authenticated calls (the directory may override them per participant). */
  readonly quotas: { readonly messagesPerMinute: number; readonly queriesPerMinute: number; readonly queriesInFlight: number }
  /** The evidence ledger (docs/ledger.md). */
  readonly ledger: {
    readonly enabled: boolean; readonly hash: 'SM3' | 'SHA-256'; readonly origin?: string
    readonly integrateMs: number; readonly checkpointMs: number; readonly batch: number
    readonly tsaUrl?: string; readonly tsaCaFile?: string
  }
  /** The operator console (docs/console.md): its own listener, sessions and lock-out. */
  readonly console: {
    readonly enabled: boolean; readonly host: string; readonly port: number
    readonly sessionMinutes: number; readonly maxFailures: number; readonly lockoutMinutes: number
    /** HTTPS on the operators' listener itself (both, or neither: then loopback or a TLS proxy in trustProxy). */
    readonly tlsCertFile?: string; readonly tlsKeyFile?: string
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
type JsonObject = { [k: string]: Json }

// keysDir and directoryFile have no default: a gateway must be told which keys are its own
// (the samples of certs-example/ are public), so a missing one is a configuration error.
export const DEFAULTS: Omit<Config, 'keysDir' | 'directoryFile'> = {
  gatewayId: 'TONGBAN',
  listen: { host: '127.0.0.1', port: 8443 },
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/test',
  dbSchema: 'tongban',
  redisUrl: 'redis://127.0.0.1:6379/0',
  redisPrefix: 'tongban',
  redisSentinels: [],
  redisSentinelName: 'mymaster',
  allowSampleKeys: false,
  workers: true,
  http: true,
  processes: 1,
  limits: { bodyBytes: 1_048_576, batchBytes: 16_777_216, batchMessages: 500, replayWindowSeconds: 300, tokenTtlSeconds: 300, tokenRequestsPerMinute: 120, adapterRequestsPerMinute: 600 },
  delivery: {
    attempts: 12,
    backoffMs: 2_000,
    maxBackoffMs: 600_000,
    maxAgeSeconds: 3 * 86_400,
    sweepIntervalMs: 15_000,
    sweepGraceMs: 5_000,
    concurrency: 4,
    lockMs: 30_000,
    circuitFailures: 5,
    circuitOpenMs: 10_000,
  },
  queries: { timeoutMs: 5_000, maxAnswerBytes: 1_048_576, breakerFailures: 5, breakerResetMs: 30_000 },
  deadlines: {
    checkIntervalMs: 60_000,
    // 自然资发〔2020〕83号: ordinary registration steps 5 working days, online mortgage 1; a court's
    // seizure (查封) and release (解封) are urgent: 1. A utility's transfer (水电气热同步过户,
    // utility:<service>, each service by its own key if given): 3.
    // A cross-region application (异地申请): the whole transfer, from the forwarding to the
    // certificate's return for printing, in the 83号 five working days; then printing: 1.
    workingDays: { tax: 5, registration: 5, mortgage: 1, preregistration: 5, housing: 5, seizure: 1, release: 1, utility: 3, 'cross-region': 5, print: 1 },
    // Deadlines in hours for a step's variant ("<kind>.<variant>"): Suihua promises one hour for a
    // plain transfer (一般转移登记 1小时办结).
    hours: { 'cross-region.plain': 1 },
  },
  attachments: { maxBytes: 20 * 1_048_576, maxMessageBytes: 100 * 1_048_576, maxPerMessage: 20, keepUnreferencedHours: 24 },
  retention: { purgeAfterDays: 30, keepMonths: 0, checkIntervalMs: 3_600_000 },
  log: { level: 'info' },
  crypto: { smBackend: 'auto', sm2Thread: 'auto' },
  pki: { anchors: [], requireCertificates: false },
  metrics: { enabled: true, host: '127.0.0.1', port: 9464 },
  trustProxy: [],
  quotas: { messagesPerMinute: 600, queriesPerMinute: 120, queriesInFlight: 4 },
  ledger: { enabled: true, hash: 'SM3', integrateMs: 1_000, checkpointMs: 5_000, batch: 5_000 },
  console: { enabled: true, host: '127.0.0.1', port: 9480, sessionMinutes: 30, maxFailures: 5, lockoutMinutes: 15 },
}

/** Environment variables the gateway reads, and where each lands in the configuration. */
export const ENV: Readonly<Record<string, { path: string; type: 'string' | 'integer' | 'boolean' | 'list' }>> = {
  TONGBAN_GATEWAY_ID: { path: 'gatewayId', type: 'string' },
  TONGBAN_HOST: { path: 'listen.host', type: 'string' },
  TONGBAN_PORT: { path: 'listen.port', type: 'integer' },
  TONGBAN_DATABASE_URL: { path: 'databaseUrl', type: 'string' },
  TONGBAN_DB_SCHEMA: { path: 'dbSchema', type: 'string' },
  TONGBAN_REDIS_URL: { path: 'redisUrl', type: 'string' },
  TONGBAN_REDIS_PREFIX: { path: 'redisPrefix', type: 'string' },
  TONGBAN_REDIS_SENTINELS: { path: 'redisSentinels', type: 'list' },
  TONGBAN_REDIS_SENTINEL_NAME: { path: 'redisSentinelName', type: 'string' },
  TONGBAN_KEYS_DIR: { path: 'keysDir', type: 'string' },
  TONGBAN_DIRECTORY: { path: 'directoryFile', type: 'string' },
  TONGBAN_ALLOW_SAMPLE_KEYS: { path: 'allowSampleKeys', type: 'boolean' },
  TONGBAN_WORKERS: { path: 'workers', type: 'boolean' },
  TONGBAN_HTTP: { path: 'http', type: 'boolean' },
  TONGBAN_PROCESSES: { path: 'processes', type: 'integer' },
  TONGBAN_BODY_LIMIT: { path: 'limits.bodyBytes', type: 'integer' },
  TONGBAN_LOG_LEVEL: { path: 'log.level', type: 'string' },
  TONGBAN_LOG_FILE: { path: 'log.file', type: 'string' },
  TONGBAN_SM_BACKEND: { path: 'crypto.smBackend', type: 'string' },
  TONGBAN_SM2_THREAD: { path: 'crypto.sm2Thread', type: 'string' },
  TONGBAN_REQUIRE_CERTIFICATES: { path: 'pki.requireCertificates', type: 'boolean' },
  TONGBAN_DELIVERY_ATTEMPTS: { path: 'delivery.attempts', type: 'integer' },
  TONGBAN_DELIVERY_BACKOFF_MS: { path: 'delivery.backoffMs', type: 'integer' },
  TONGBAN_SWEEP_INTERVAL_MS: { path: 'delivery.sweepIntervalMs', type: 'integer' },
  TONGBAN_DELIVERY_LOCK_MS: { path: 'delivery.lockMs', type: 'integer' },
  TONGBAN_DELIVERY_CIRCUIT_FAILURES: { path: 'delivery.circuitFailures', type: 'integer' },
  TONGBAN_DELIVERY_CIRCUIT_OPEN_MS: { path: 'delivery.circuitOpenMs', type: 'integer' },
  TONGBAN_ATTACHMENT_MAX_BYTES: { path: 'attachments.maxBytes', type: 'integer' },
  TONGBAN_ATTACHMENT_MESSAGE_BYTES: { path: 'attachments.maxMessageBytes', type: 'integer' },
  TONGBAN_RETENTION_PURGE_AFTER_DAYS: { path: 'retention.purgeAfterDays', type: 'integer' },
  TONGBAN_RETENTION_KEEP_MONTHS: { path: 'retention.keepMonths', type: 'integer' },
  TONGBAN_QUERY_TIMEOUT_MS: { path: 'queries.timeoutMs', type: 'integer' },
  TONGBAN_QUERY_MAX_ANSWER_BYTES: { path: 'queries.maxAnswerBytes', type: 'integer' },
  TONGBAN_METRICS: { path: 'metrics.enabled', type: 'boolean' },
  TONGBAN_METRICS_HOST: { path: 'metrics.host', type: 'string' },
  TONGBAN_METRICS_PORT: { path: 'metrics.port', type: 'integer' },
  TONGBAN_TRUST_PROXY: { path: 'trustProxy', type: 'list' },
  TONGBAN_LEDGER: { path: 'ledger.enabled', type: 'boolean' },
  TONGBAN_LEDGER_HASH: { path: 'ledger.hash', type: 'string' },
  TONGBAN_LEDGER_ORIGIN: { path: 'ledger.origin', type: 'string' },
  TONGBAN_LEDGER_TSA_URL: { path: 'ledger.tsaUrl', type: 'string' },
  TONGBAN_LEDGER_TSA_CA: { path: 'ledger.tsaCaFile', type: 'string' },
  TONGBAN_CONSOLE: { path: 'console.enabled', type: 'boolean' },
  TONGBAN_CONSOLE_HOST: { path: 'console.host', type: 'string' },
  TONGBAN_CONSOLE_PORT: { path: 'console.port', type: 'integer' },
  TONGBAN_CONSOLE_TLS_CERT: { path: 'console.tlsCertFile', type: 'string' },
  TONGBAN_CONSOLE_TLS_KEY: { path: 'console.tlsKeyFile', type: 'string' },
}

/** TONGBAN_* variables that are not configuration: read by tooling, not by the gateway. */
const ENV_NOT_CONFIG = new Set(['TONGBAN_CONFIG', 'TONGBAN_REQUIRE_NATIVE'])

/** A configuration fault, with the JSON pointer (or variable) of each problem. */
export class ConfigError extends Error {
  readonly problems: readonly string[]
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

export interface LoadOptions {
  /** Environment to read (default: none; the CLI passes process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** A JSON configuration file (also TONGBAN_CONFIG). Relative paths in it resolve against its folder. */
  readonly file?: string
  /** Highest-priority values, e.g. from command-line flags or a test. */
  readonly overrides?: DeepPartial<Config>
  /** Folder that relative paths in env/overrides resolve against (default: process.cwd()). */
  readonly cwd?: string
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] }

const schema = JSON.parse(readFileSync(new URL('../../schemas/config.v1.json', import.meta.url), 'utf8')) as JsonObject
const ajv = new Ajv({ allErrors: true, strict: true })
const validate = ajv.compile(schema)

/** Builds the configuration from defaults, a file, the environment and overrides; validates and freezes it. */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? {}
  const cwd = options.cwd ?? process.cwd()
  const problems: string[] = []
  let merged = clone(DEFAULTS as unknown as JsonObject)

  const file = options.file ?? env.TONGBAN_CONFIG
  if (file !== undefined && file !== '') {
    const path = resolve(cwd, file)
    try {
      const fromFile = JSON.parse(readFileSync(path, 'utf8')) as Json
      if (!isObject(fromFile)) problems.push(`${file}: must hold a JSON object`)
      else merged = merge(merged, resolvePaths(fromFile, dirname(path)))
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message}`)
    }
  }

  const fromEnv: JsonObject = {}
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('TONGBAN_') || raw === undefined || ENV_NOT_CONFIG.has(name)) continue
    const spec = ENV[name]
    if (spec === undefined) {
      const hint = closest(name, Object.keys(ENV))
      problems.push(`environment variable ${name} is not known${hint ? ` (did you mean ${hint}?)` : ''}`)
      continue
    }
    const value = parseEnv(raw, spec.type)
    if (value === undefined) problems.push(`environment variable ${name} must be ${spec.type === 'integer' ? 'an integer' : 'true or false'}`)
    else setPath(fromEnv, spec.path, value)
  }
  merged = merge(merged, resolvePaths(fromEnv, cwd))
  if (options.overrides) merged = merge(merged, resolvePaths(options.overrides as unknown as JsonObject, cwd))

  if (!validate(merged)) problems.push(...(validate.errors ?? []).map((e) => describe(e)))
  // The schema checks the shape; whether each proxy entry is an address or CIDR, node:net says.
  else {
    problems.push(...AddressSet.parse(merged.trustProxy as string[]).problems.map((p) => `/trustProxy/${p.index}: ${p.message}`))
    problems.push(...consoleProblems(merged.console as unknown as Config['console'], (merged.trustProxy as string[]).length > 0))
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return deepFreeze(merged) as unknown as Config
}

/**
 * The console's session cookies are Secure: its listener speaks TLS itself, or stands behind a
 * TLS proxy (trustProxy, X-Forwarded-Proto), or is on loopback (a local trial; the browser treats
 * it as a secure context). Anywhere else, passwords would cross the network in clear.
 */
function consoleProblems(c: Config['console'], proxied: boolean): string[] {
  if ((c.tlsCertFile === undefined) !== (c.tlsKeyFile === undefined)) return ['/console: tlsCertFile and tlsKeyFile go together']
  const loopback = c.host === 'localhost' || c.host === '::1' || /^127\./.test(c.host)
  if (c.enabled && c.tlsCertFile === undefined && !loopback && !proxied) {
    return [`/console/host: ${c.host} is not loopback: give the console TLS (console.tlsCertFile and console.tlsKeyFile) or put it behind a TLS proxy named in trustProxy`]
  }
  return []
}

/** How to give a required setting that has no default. */
const REQUIRED_HINTS: Readonly<Record<string, string>> = {
  keysDir: 'the folder of the gateway\'s own keys: pass --keys DIR, TONGBAN_KEYS_DIR or "keysDir" in the config file (make one with `tongban keys gateway --out DIR`; `npm start` runs a local trial with the sample keys)',
  directoryFile: 'the participant directory: pass --directory FILE, TONGBAN_DIRECTORY or "directoryFile" in the config file',
}

function describe(e: ErrorObject): string {
  const at = e.instancePath === '' ? '/' : e.instancePath
  if (e.keyword === 'required') {
    const missing = String((e.params as { missingProperty: string }).missingProperty)
    const hint = e.instancePath === '' ? REQUIRED_HINTS[missing] : undefined
    return `${at === '/' ? '' : at}/${missing}: required${hint ? `: ${hint}` : ''}`
  }
  if (e.keyword === 'additionalProperties') {
    const extra = String((e.params as { additionalProperty: string }).additionalProperty)
    const known = knownKeys(e.schemaPath)
    const hint = closest(extra, known)
    return `${at === '/' ? '' : at}/${extra}: unknown key${hint ? ` (did you mean "${hint}"?)` : ''}`
  }
  return `${at}: ${e.message ?? e.keyword}`
}

/** The property names allowed where an additionalProperties error was raised. */
function knownKeys(schemaPath: string): string[] {
  let node: Json = schema
  for (const part of schemaPath.replace(/^#\//, '').split('/').slice(0, -1)) {
    if (!isObject(node)) return []
    node = node[part] ?? null
  }
  return isObject(node) && isObject(node.properties ?? null) ? Object.keys(node.properties as JsonObject) : []
}

const PATH_KEYS = new Set(['tsaCaFile', 'keysDir', 'directoryFile', 'file', 'crl', 'tlsCertFile', 'tlsKeyFile'])

/** Relative file paths are taken relative to where they were written. */
function resolvePaths(value: JsonObject, base: string): JsonObject {
  const out: JsonObject = {}
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string' && PATH_KEYS.has(k)) out[k] = resolve(base, v)
    else if (isObject(v)) out[k] = resolvePaths(v, base)
    // Lists of objects hold paths too (pki.anchors[].file, .crl).
    else if (Array.isArray(v)) out[k] = v.map((x) => (isObject(x) ? resolvePaths(x, base) : x))
    else out[k] = v
  }
  return out
}

function parseEnv(raw: string, type: 'string' | 'integer' | 'boolean' | 'list'): Json | undefined {
  if (type === 'string') return raw
  // A list is comma-separated ("10.0.0.1, 10.0.1.0/24"); empty means none.
  if (type === 'list') return raw.split(',').map((x) => x.trim()).filter((x) => x !== '')
  if (type === 'integer') return /^-?\d+$/.test(raw) ? Number(raw) : undefined
  if (/^(1|true|yes|on)$/i.test(raw)) return true
  if (/^(0|false|no|off)$/i.test(raw)) return false
  return undefined
}

function setPath(target: JsonObject, path: string, value: Json): void {
  const parts = path.split('.')
  let node = target
  for (const p of parts.slice(0, -1)) {
    const next = node[p]
    node = isObject(next ?? null) ? (next as JsonObject) : (node[p] = {})
  }
  node[parts[parts.length - 1] as string] = value
}

function merge(base: JsonObject, over: JsonObject): JsonObject {
  const out: JsonObject = { ...base }
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue
    const b = out[k]
    out[k] = isObject(v) && b !== undefined && isObject(b) ? merge(b, v) : v
  }
  return out
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function clone(v: JsonObject): JsonObject {
  return JSON.parse(JSON.stringify(v)) as JsonObject
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const child of Object.values(v)) deepFreeze(child)
    Object.freeze(v)
  }
  return v
}
