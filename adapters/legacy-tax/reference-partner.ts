import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { hmacHex } from '../../src/crypto/index.ts'
import { systemClock, type Clock } from '../../src/util/ids.ts'
import type { ReceivedMessage, ReferenceBehaviour, ReferencePartner } from '../reference.ts'
import { assessmentFromVendor, RETURN_CODES, type AssessmentView } from './mapping.ts'
import { checkSignature, signatureHeaders, type SignatureCheck } from './signature.ts'
import { parseVendorJson, type VendorFault, type GatewayAnswer, type ThxxMessage, type VendorAnswer, type WsxxMessage, type ZsxxMessage } from './vendor.ts'

export interface LegacyTaxSystemOptions {
  /** The participant id the gateway knows this tax system by, e.g. TAX:231221. */
  readonly participantId: string
  /** The secret shared with the gateway (≥ 32 bytes), or a function giving it (when the gateway's keys are made after this system starts). */
  readonly secret: Buffer | (() => Buffer)
  /** The gateway's base URL (e.g. http://127.0.0.1:8443), or a function giving it. */
  readonly gatewayUrl?: string | (() => string)
  readonly clock?: Clock
}

/** 征税信息 as the tax system received it. */
export interface ReceivedAssessment extends ReceivedMessage {
  /** The flat vendor JSON exactly as it arrived. */
  readonly vendor: ZsxxMessage
  /** The same in standard terms (mapped back). */
  readonly standard: AssessmentView
  /** A repeat of a 流水号 it already had (answered 0001). */
  readonly duplicate: boolean
}

/** What the gateway answered to a post. */
export interface GatewayReply {
  readonly status: number
  readonly answer: GatewayAnswer
  /** Whether the answer carries a valid signature with the shared secret. */
  readonly authentic: SignatureCheck
}

/** Signature headers to use instead of the right ones (tests of the gateway's checks). */
export interface PostOptions {
  readonly timestamp?: number
  readonly signature?: string
}

/**
 * A simulated legacy tax system (the reference partner of the legacy-tax adapter, and the demo's
 * legacy tax bureau). It takes 征税信息 at `endpoint` — checks the HMAC and the window, reads the
 * flat JSON, maps it back, drops repeats by 流水号 — and posts 完税信息 / 退回信息 to the gateway
 * in its own format. Usage:
 *
 *   const tax = new LegacyTaxSystem({ participantId: 'TAX:231221', secret, gatewayUrl })
 *   await tax.start()                       // directory: { adapter: 'legacy-tax', endpoint: tax.endpoint }
 *   tax.onAssessment(async (a) => { await tax.postPaymentCompleted({ lsh: 'WS…', ywh: a.standard.caseId, … }) })
 */
export class LegacyTaxSystem implements ReferencePartner {
  readonly participantId: string
  readonly directoryEntry: Readonly<Record<string, unknown>> = {}
  readonly #o: LegacyTaxSystemOptions
  readonly #clock: Clock
  readonly #received: ReceivedAssessment[] = []
  readonly #seen = new Set<string>()
  readonly #handlerErrors: unknown[] = []
  #handler: ((a: ReceivedAssessment) => void | Promise<void>) | undefined
  #behaviour: (n: number) => ReferenceBehaviour = () => ({})
  #posts = 0
  #refused = 0
  #server: Server | undefined
  #endpoint = ''

  constructor(o: LegacyTaxSystemOptions) {
    this.#o = o
    this.participantId = o.participantId
    this.#clock = o.clock ?? systemClock
  }

  /** Where the gateway posts 征税信息 (valid after start). */
  get endpoint(): string {
    return this.#endpoint
  }

  /** Calls `handler` for each new 征税信息 (not for repeats), after answering it. */
  onAssessment(handler: (a: ReceivedAssessment) => void | Promise<void>): void {
    this.#handler = handler
  }

  behave(b: (n: number) => ReferenceBehaviour): void {
    this.#behaviour = b
  }

  /** Every 征税信息 it accepted (0000 or 0001), in order. */
  received(): ReadonlyArray<ReceivedAssessment> {
    return this.#received
  }

  /** How many posts it refused for their signature, window or content. */
  get refused(): number {
    return this.#refused
  }

  /** Errors thrown by the onAssessment handler. */
  get handlerErrors(): readonly unknown[] {
    return this.#handlerErrors
  }

  /** Posts 完税信息 to the gateway (POST /v1/adapters/legacy-tax/<participant>/wsxx). */
  async postPaymentCompleted(body: WsxxMessage | Record<string, unknown>): Promise<GatewayReply> {
    return this.post('wsxx', JSON.stringify(body))
  }

  /** Posts 退回信息 to the gateway (…/thxx). */
  async postRejected(body: ThxxMessage | Record<string, unknown>): Promise<GatewayReply> {
    return this.post('thxx', JSON.stringify(body))
  }

  /** Posts exact bytes, signed (or with the given wrong headers), and reads the answer. */
  async post(path: 'wsxx' | 'thxx', raw: string | Buffer, options: PostOptions = {}): Promise<GatewayReply> {
    const body = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8')
    const now = options.timestamp !== undefined ? new Date(options.timestamp * 1000) : this.#clock.now()
    const headers = signatureHeaders(body, now, (d) => this.#mac(d))
    if (options.signature !== undefined) headers['x-tb-signature'] = options.signature
    const base = typeof this.#o.gatewayUrl === 'function' ? this.#o.gatewayUrl() : this.#o.gatewayUrl
    if (base === undefined || base === '') throw new Error('LegacyTaxSystem: no gatewayUrl to post to')
    const res = await fetch(`${base}/v1/adapters/legacy-tax/${this.participantId}/${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body,
    })
    const answerBytes = Buffer.from(await res.arrayBuffer())
    const answerHeaders = Object.fromEntries([...res.headers.entries()])
    const authentic = checkSignature(answerHeaders, answerBytes, this.#clock.now(), (d, mac) => sameMac(this.#mac(d), mac))
    let answer: GatewayAnswer
    try {
      answer = JSON.parse(answerBytes.toString('utf8')) as GatewayAnswer
    } catch {
      answer = { fhm: '', fhxx: '' }
    }
    return { status: res.status, answer, authentic }
  }

  async start(port = 0): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => void this.#take(req, Buffer.concat(chunks), res))
    })
    await new Promise<void>((resolve) => this.#server!.listen(port, '127.0.0.1', resolve))
    this.#endpoint = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/fcjy/zsxx`
  }

  async stop(): Promise<void> {
    const s = this.#server
    this.#server = undefined
    if (s) await new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()) })
  }

  #mac(data: Uint8Array): string {
    const secret = typeof this.#o.secret === 'function' ? this.#o.secret() : this.#o.secret
    return hmacHex('SM3', secret, data)
  }

  /** Answers as the vendor does: HTTP 200 and a signed {fhm, fhxx} for whatever it could read. */
  #answer(res: ServerResponse, a: VendorAnswer): void {
    const body = Buffer.from(JSON.stringify(a), 'utf8')
    if (res.destroyed) return
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', ...signatureHeaders(body, this.#clock.now(), (d) => this.#mac(d)) }).end(body)
  }

  /** 1001 数据校验不通过, naming the field. */
  #refuse(res: ServerResponse, fault: VendorFault, lsh: string | undefined): void {
    this.#refused++
    this.#answer(res, { fhm: '1001', fhxx: `${RETURN_CODES['1001'].fhxx}: 字段 ${fault.field} ${fault.rule}`, ...(lsh !== undefined ? { lsh } : {}) })
  }

  async #take(req: IncomingMessage, raw: Buffer, res: ServerResponse): Promise<void> {
    const b = this.#behaviour(++this.#posts)
    if (b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs))
    // A web server in front of the system fails with a bare HTTP status, unsigned.
    const status = b.status ?? (b.outcome === 'unavailable' ? 503 : 200)
    if (status < 200 || status >= 300) {
      if (!res.destroyed) res.writeHead(status).end()
      return
    }
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]))
    // Every answer echoes the request's 流水号 when it can be read, even a refusal.
    const lsh = serialOf(raw)
    const auth = checkSignature(headers, raw, this.#clock.now(), (d, mac) => sameMac(this.#mac(d), mac))
    if (auth !== 'ok') {
      this.#refused++
      const fhm = auth === 'stale' ? '9002' : '9001'
      return this.#answer(res, { fhm, fhxx: RETURN_CODES[fhm].fhxx, ...(lsh !== undefined ? { lsh } : {}) })
    }
    const parsed = parseVendorJson(raw)
    if (!parsed.ok) return this.#refuse(res, parsed.fault, lsh)
    const mapped = assessmentFromVendor(parsed.value)
    if (!mapped.ok) return this.#refuse(res, mapped.fault, lsh)
    const vendor = parsed.value as unknown as ZsxxMessage
    const standard = mapped.value
    const duplicate = this.#seen.has(standard.id)
    const fhm = duplicate ? '0001' : b.vendorCode ?? (b.outcome === 'refuse' ? '1002' : '0000')
    if (fhm === '0000' || fhm === '0001') {
      const unitCode = (standard.body.property as { unitCode?: string } | undefined)?.unitCode
      const a: ReceivedAssessment = {
        exchangeId: standard.id, type: 'tax.assessment.request', caseId: standard.caseId, ...(unitCode !== undefined ? { unitCode } : {}),
        body: standard.body, vendor, standard, duplicate,
      }
      this.#received.push(a)
      this.#seen.add(standard.id)
      this.#answer(res, { fhm, fhxx: RETURN_CODES[fhm].fhxx, lsh: standard.id })
      if (!duplicate && this.#handler !== undefined) {
        const handler = this.#handler
        setImmediate(() => void Promise.resolve().then(() => handler(a)).catch((err: unknown) => this.#handlerErrors.push(err)))
      }
      return
    }
    this.#answer(res, { fhm, fhxx: (RETURN_CODES as Record<string, { fhxx: string }>)[fhm]?.fhxx ?? '处理失败', lsh: standard.id })
  }
}

/** The 流水号 of a request body, if it can be read at all. */
function serialOf(raw: Buffer): string | undefined {
  try {
    const lsh = (JSON.parse(raw.toString('utf8')) as { lsh?: unknown }).lsh
    return typeof lsh === 'string' ? lsh : undefined
  } catch {
    return undefined
  }
}

/**
 * Constant-time comparison of two hex MACs. The simulated vendor holds the shared secret and
 * computes the expected MAC itself; the gateway's side checks through verifyPartnerMac instead.
 */
function sameMac(expectedHex: string, givenHex: string): boolean {
  const a = Buffer.from(expectedHex, 'hex')
  const b = Buffer.from(givenHex, 'hex')
  return a.length === b.length && timingSafeEqual(a, b)
}
