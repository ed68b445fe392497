import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import cookie from '@fastify/cookie'
import session from '@fastify/session'
import csrf from '@fastify/csrf-protection'
import helmet from '@fastify/helmet'
import formbody from '@fastify/formbody'
import { TongbanError, ERRORS, type ErrorCode } from '../errors.ts'
import { OperatorAccounts, consoleActor, may, type ConsoleOperator, type Right } from '../core/operators.ts'
import { OperationsView } from '../core/operations.ts'
import { chinaCalendar } from '../core/calendar.ts'
import { caseView } from '../core/views.ts'
import { caseIdFault } from '../core/formats.ts'
import { closeStepAsOperator } from '../core/steps.ts'
import { openApiDocument } from '../inbound/openapi.ts'
import { tlsCredentials } from '../crypto/index.ts'
import { maskRef, maskUnit, scrubText } from '../util/mask.ts'
import { UUID_RE } from '../util/ids.ts'
import type { Html } from './html.ts'
import type { Lang } from './i18n.ts'
import { pageContext, type PageContext } from './layout.ts'
import { pgSessionStore } from './session-store.ts'
import { errorPage, loginPage } from './pages/login.ts'
import { overviewPage } from './pages/overview.ts'
import { caseSearchPage, casePage, type CaseDoc } from './pages/cases.ts'
import { deadLettersPage, deliveryPage, replayConfirmPage } from './pages/dead.ts'
import { partnersPage } from './pages/partners.ts'
import { queriesPage } from './pages/queries.ts'
import { ledgerPage } from './pages/ledger.ts'
import { apiPage } from './pages/api.ts'
import { AddressSet } from '../util/cidr.ts'
import { isDependencyDown } from '../inbound/problem.ts'
import { installConsoleCheck } from '../inbound/response-check.ts'

/** The header that carries a refused console request's error code (docs/console.md). */
const ERROR_HEADER = 'tongban-error'

declare module 'fastify' {
  interface Session {
    operator?: string
  }
  interface FastifyRequest {
    consoleOperator?: ConsoleOperator
  }
}

const CSS = readFileSync(new URL('./static/console.css', import.meta.url))
const LANG_COOKIE = 'tongban-lang'
const SESSION_COOKIE = '__Host-tongban-console'

/** A path of this console to come back to (never another site: `//host` or a scheme). */
function localPath(p: unknown, fallback: string): string {
  return typeof p === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(p) && !p.startsWith('/login') ? p : fallback
}

function field(body: unknown, name: string): string {
  const v = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined
  return typeof v === 'string' ? v : ''
}

/**
 * The operator console (docs/console.md): server-rendered pages on a listener of its own
 * (config `console`), apart from the partners' API. Operators sign in with a password (argon2id)
 * and a TOTP code; sessions are secure, HTTP-only, same-site cookies backed by PostgreSQL; every
 * form carries a CSRF token; a strict CSP allows nothing but this listener's own stylesheet.
 */
export const consolePlugin = fp(async (app) => {
  const tb = app.tb
  const { config } = tb
  tb.operators = new OperatorAccounts({ db: tb.db, sealer: tb.keyring.sealer(), ledger: tb.ledger, now: () => tb.clock.now() })
  if (!config.console.enabled || config.http === false) return
  const calendar = tb.calendar ?? chinaCalendar()
  const ops = new OperationsView({ db: tb.db, refusals: tb.refusals, ledger: tb.ledger, directory: () => tb.directory, breakers: () => circuitStates(tb.forwarder, tb.delivery), calendar })
  const openapi = openApiDocument(tb.validator, config.gatewayId) as Parameters<typeof apiPage>[1]
  const ttlMs = config.console.sessionMinutes * 60_000
  const proxies = config.trustProxy.length === 0 ? undefined : AddressSet.parse(config.trustProxy).set

  // HTTPS on the listener itself when configured; else loopback or a TLS proxy (config checked which).
  const tls = config.console.tlsCertFile !== undefined && config.console.tlsKeyFile !== undefined ? tlsCredentials(config.console.tlsCertFile, config.console.tlsKeyFile) : undefined
  const ui: FastifyInstance = Fastify({
    ...(tls !== undefined ? { https: tls } : {}),
    loggerInstance: app.log.child({ listener: 'console' }) as FastifyBaseLogger,
    bodyLimit: 16_384,
    requestIdHeader: false,
    genReqId: () => tb.ids.uuid7(),
    trustProxy: proxies === undefined ? false : (address: string) => proxies.contains(address),
    // Before routing (a path whose percent-encoding does not decode): the error page, no FST_* code.
    frameworkErrors: (err, request, reply) => { void refuse(err, request, reply) },
  })
  const routes: string[] = tb.consoleRoutes = []
  ui.addHook('onRoute', (r) => { for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push(`${m} ${r.url}`) })
  // The tests' gateways: a refusal with a code its route does not declare (route-errors.ts) is a fault.
  if (tb.checkAnswers) installConsoleCheck(ui, tb.responseFaults, ERROR_HEADER)
  await ui.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"], styleSrc: ["'self'"], imgSrc: ["'self'"], formAction: ["'self'"],
        frameAncestors: ["'none'"], baseUri: ["'none'"],
      },
    },
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
    referrerPolicy: { policy: 'no-referrer' },
  })
  // Forms only: Fastify's JSON and text parsers go, so any other body is 415 TB_ERR_CONTENT_TYPE.
  ui.removeAllContentTypeParsers()
  await ui.register(formbody)
  await ui.register(cookie)
  await ui.register(session, {
    secret: tb.keyring.derivedSecret('console session cookie').toString('hex'),
    // With TLS: __Host- (Secure, path /, no domain: the browser sends it to this origin only).
    // Without: Secure whenever the request came over HTTPS (a TLS proxy); plain only on loopback.
    cookieName: tls !== undefined ? SESSION_COOKIE : 'tongban-console',
    cookie: { secure: tls !== undefined ? true : 'auto', httpOnly: true, sameSite: 'strict', path: '/', maxAge: ttlMs },
    store: pgSessionStore(tb.db, ttlMs, () => tb.clock.now()),
    saveUninitialized: false,
    rolling: true,
  })
  await ui.register(csrf, { sessionPlugin: '@fastify/session' })

  const langOf = (request: FastifyRequest): Lang => (request.cookies[LANG_COOKIE] === 'en' ? 'en' : 'zh')
  const ctx = (request: FastifyRequest, reply: FastifyReply): PageContext => pageContext(langOf(request), request.consoleOperator, reply.generateCsrf(), request.url)
  const send = (reply: FastifyReply, page: Html, status = 200): FastifyReply => reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page.text)

  /** The signed-in operator, if the session names one that may still sign in. */
  async function signedIn(request: FastifyRequest): Promise<ConsoleOperator | undefined> {
    const username = request.session.get('operator')
    if (username === undefined) return undefined
    const op = await tb.operators.current(username)
    if (op === undefined) await request.session.destroy()
    return op
  }

  /** preHandler: a signed-in operator whose role holds `right` (GET without one: to the log-in page). */
  const need = (right: Right) => async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const op = await signedIn(request)
    if (op === undefined) {
      // Returning the reply ends the request here: the handler does not run.
      if (request.method === 'GET') return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303)
      throw new TongbanError('TB_ERR_TOKEN_MISSING', 'sign in first')
    }
    request.consoleOperator = op
    if (!may(op.role, right)) throw new TongbanError('TB_ERR_FORBIDDEN', `the ${op.role} role may not do this`)
    return undefined
  }
  const guarded = { preValidation: ui.csrfProtection }

  /** The error page of a refused request, with its code in the tongban-error header (docs/console.md). */
  async function refuse(err: unknown, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const statusCode = (err as { statusCode?: number }).statusCode
    const code: ErrorCode = err instanceof TongbanError ? err.code
      : (err as { code?: string }).code?.startsWith('FST_CSRF') ? 'TB_ERR_CSRF'
      : statusCode === 413 ? 'TB_ERR_BODY_TOO_LARGE'
      : statusCode === 415 ? 'TB_ERR_CONTENT_TYPE'
      : (statusCode ?? 500) < 500 ? 'TB_ERR_BAD_REQUEST'
      : isDependencyDown(err) ? 'TB_ERR_UNAVAILABLE' : 'TB_ERR_INTERNAL'
    const status = ERRORS[code].status
    if (code === 'TB_ERR_INTERNAL') request.log.error({ err, code }, 'console error')
    else request.log.info({ code, status }, 'console request refused')
    // A token only for a signed-in operator's page (its log-out form): generating one would start a
    // session, and the cookie of a refused cross-site request would replace the operator's own.
    const c = pageContext(langOf(request), request.consoleOperator, request.consoleOperator === undefined ? '' : safeCsrf(reply), request.url)
    const text = code === 'TB_ERR_CSRF' ? c.t('csrf') : code === 'TB_ERR_FORBIDDEN' ? c.t('forbidden') : status >= 500 || code === 'TB_ERR_BAD_REQUEST' && !(err instanceof TongbanError) ? c.t('error') : (err as Error).message
    if (status === 503) void reply.header('retry-after', '5')
    return send(reply.header(ERROR_HEADER, code), errorPage(c, status === 404 ? c.t('notFound') : status === 403 ? c.t('forbidden') : c.t('error'), text, code), status)
  }
  ui.setErrorHandler(refuse)
  const safeCsrf = (reply: FastifyReply): string => {
    try {
      return reply.generateCsrf()
    } catch {
      return ''
    }
  }
  ui.setNotFoundHandler(async (request, reply) => {
    const c = pageContext(langOf(request), undefined, '', request.url)
    return send(reply.header(ERROR_HEADER, 'TB_ERR_NOT_FOUND'), errorPage(c, c.t('notFound'), c.t('notFound'), 'TB_ERR_NOT_FOUND'), 404)
  })

  ui.get('/static/console.css', async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(CSS))
  ui.get('/', async (_request, reply) => reply.redirect('/overview', 303))
  // Browsers ask for it on every site: no icon, and no 404 in their console.
  ui.get('/favicon.ico', async (_request, reply) => reply.code(204).header('cache-control', 'public, max-age=86400').send())
  ui.get<{ Querystring: { to?: string; back?: string } }>('/lang', async (request, reply) => {
    const to = request.query.to === 'en' ? 'en' : 'zh'
    void reply.setCookie(LANG_COOKIE, to, { path: '/', sameSite: 'lax', httpOnly: true, secure: 'auto', maxAge: 31_536_000 })
    return reply.redirect(localPath(request.query.back, '/overview'), 303)
  })

  ui.get<{ Querystring: { next?: string } }>('/login', async (request, reply) => {
    if (await signedIn(request)) return reply.redirect(localPath(request.query.next, '/overview'), 303)
    return send(reply, loginPage(ctx(request, reply), undefined, localPath(request.query.next, '/overview')))
  })
  ui.post('/login', guarded, async (request, reply) => {
    const body = request.body
    const next = localPath(field(body, 'next'), '/overview')
    try {
      const op = await tb.operators.login(field(body, 'username'), field(body, 'password'), field(body, 'code'), config.console)
      // A new session id at every log-in (no session fixation), then the operator in it.
      await request.session.regenerate()
      request.session.set('operator', op.username)
      request.log.info({ operator: consoleActor(op.username), role: op.role }, 'console log-in')
      return reply.redirect(next, 303)
    } catch (err) {
      if (!(err instanceof TongbanError) || (err.code !== 'TB_ERR_LOGIN_FAILED' && err.code !== 'TB_ERR_ACCOUNT_LOCKED' && err.code !== 'TB_ERR_UNAVAILABLE')) throw err
      request.log.info({ code: err.code }, 'console log-in refused')
      const c = ctx(request, reply)
      const text = err.code === 'TB_ERR_LOGIN_FAILED' ? c.t('loginFailed') : err.code === 'TB_ERR_ACCOUNT_LOCKED' ? c.t('locked') : c.t('error')
      return send(reply.header(ERROR_HEADER, err.code), loginPage(c, { code: err.code, text }, next), err.status)
    }
  })
  ui.post('/logout', guarded, async (request, reply) => {
    const username = request.session.get('operator')
    if (username !== undefined) await tb.ledger.write('operator.action', { operator: consoleActor(username), action: 'console.logout', target: username, outcome: 'signed-out' })
    await request.session.destroy()
    return reply.redirect('/login', 303)
  })

  ui.get('/overview', { preHandler: need('view') }, async (request, reply) => {
    const o = await ops.overview(tb.clock.now())
    return send(reply, overviewPage(ctx(request, reply), o, maskUnit))
  })

  ui.get<{ Querystring: { q?: string } }>('/cases', { preHandler: need('view') }, async (request, reply) => {
    const q = typeof request.query.q === 'string' ? request.query.q.slice(0, 64) : ''
    const found = q === '' ? undefined : await ops.findCases(q)
    if (found !== undefined) await tb.ledger.write('case.read', { reader: consoleActor(request.consoleOperator!.username), what: 'cases', count: found.length })
    if (found?.length === 1) return reply.redirect(`/cases/${found[0]!.caseId}`, 303)
    return send(reply, caseSearchPage(ctx(request, reply), q, found))
  })

  ui.get<{ Params: { caseId: string }; Querystring: { unmask?: string } }>('/cases/:caseId', { preHandler: need('view') }, async (request, reply) => {
    const op = request.consoleOperator!
    const now = tb.clock.now()
    const unmasked = request.query.unmask === '1' && may(op.role, 'reveal')
    if (request.query.unmask === '1' && !unmasked) throw new TongbanError('TB_ERR_FORBIDDEN', `the ${op.role} role sees personal data masked`)
    const fault = caseIdFault(request.params.caseId)
    if (fault !== null) throw new TongbanError('TB_ERR_BAD_REQUEST', `not a case id: ${fault.message}`)
    const doc = await caseView(tb.db, request.params.caseId, { kind: 'operator', operator: { id: consoleActor(op.username), name: op.displayName, signingKeys: [] } }, now) as CaseDoc
    // On record before the page leaves (the personal-data access log), with whether it was unmasked.
    await tb.ledger.write('case.read', { reader: consoleActor(op.username), what: 'case', ref: doc.caseId, ...(unmasked ? { unmasked: true } : {}) })
    return send(reply, casePage(ctx(request, reply), doc, {
      now, unmasked, mayUnmask: may(op.role, 'reveal'), mayAct: may(op.role, 'act'),
      workingDaysLeft: (due) => ops.workingDaysLeft(now, due), mask: maskUnit, scrub: scrubText,
    }))
  })

  ui.post<{ Params: { caseId: string; stepId: string } }>('/cases/:caseId/steps/:stepId/close', { ...guarded, preHandler: need('act') }, async (request, reply) => {
    const op = request.consoleOperator!
    await closeStepAsOperator(tb.db, tb.ledger, { caseId: request.params.caseId, stepId: request.params.stepId, operator: consoleActor(op.username), reason: field(request.body, 'reason'), at: tb.clock.now() })
    request.log.info({ caseId: request.params.caseId, stepId: request.params.stepId, operator: consoleActor(op.username) }, 'case step closed by an operator')
    return reply.redirect(`/cases/${encodeURIComponent(request.params.caseId)}`, 303)
  })

  ui.get('/dead', { preHandler: need('view') }, async (request, reply) => {
    const rows = await ops.deadLetters()
    return send(reply, deadLettersPage(ctx(request, reply), rows, may(request.consoleOperator!.role, 'act')))
  })
  const deliveryOr404 = async (id: string) => {
    const d = UUID_RE.test(id) ? await ops.delivery(id) : undefined
    if (d === undefined) throw new TongbanError('TB_ERR_NOT_FOUND', 'no such delivery')
    return d
  }
  ui.get<{ Params: { id: string } }>('/dead/:id', { preHandler: need('act') }, async (request, reply) => {
    const d = await deliveryOr404(request.params.id)
    if (d.status !== 'dead') return reply.redirect(`/deliveries/${d.deliveryId}`, 303)
    return send(reply, replayConfirmPage(ctx(request, reply), d))
  })
  ui.post<{ Params: { id: string } }>('/dead/:id/replay', { ...guarded, preHandler: need('act') }, async (request, reply) => {
    await deliveryOr404(request.params.id)
    await tb.delivery.replay(request.params.id, consoleActor(request.consoleOperator!.username))
    return reply.redirect(`/deliveries/${request.params.id}?replayed=1`, 303)
  })
  ui.get<{ Params: { id: string }; Querystring: { replayed?: string } }>('/deliveries/:id', { preHandler: need('view') }, async (request, reply) => {
    const d = await deliveryOr404(request.params.id)
    return send(reply, deliveryPage(ctx(request, reply), d, request.query.replayed === '1'))
  })

  ui.get('/partners', { preHandler: need('view') }, async (request, reply) => {
    return send(reply, partnersPage(ctx(request, reply), await ops.partners(), tb.clock.now()))
  })

  ui.get<{ Querystring: { unmask?: string } }>('/queries', { preHandler: need('audit') }, async (request, reply) => {
    const op = request.consoleOperator!
    const unmasked = request.query.unmask === '1'
    const rows = await ops.queries()
    await tb.ledger.write('case.read', { reader: consoleActor(op.username), what: 'queries', count: rows.length, ...(unmasked ? { unmasked: true } : {}) })
    return send(reply, queriesPage(ctx(request, reply), rows, { unmasked, mask: maskRef }))
  })

  ui.get('/ledger', { preHandler: need('audit') }, async (request, reply) => {
    return send(reply, ledgerPage(ctx(request, reply), { enabled: tb.ledger.enabled, origin: tb.ledger.enabled ? tb.ledger.origin : '', checkpoints: tb.ledger.enabled ? await ops.checkpoints() : [] }))
  })
  ui.post('/ledger/verify', { ...guarded, preHandler: need('audit') }, async (request, reply) => {
    if (!tb.ledger.enabled) throw new TongbanError('TB_ERR_UNAVAILABLE', 'this gateway runs without its ledger (ledger.enabled is false)')
    const op = request.consoleOperator!
    const now = tb.clock.now()
    const report = await ops.verifyLedger(now)
    await tb.ledger.write('operator.action', { operator: consoleActor(op.username), action: 'ledger.verify', target: String(report.treeSize), outcome: report.ok ? 'ok' : `fault:${report.fault?.record ?? ''}` })
    return send(reply, ledgerPage(ctx(request, reply), { enabled: true, origin: tb.ledger.origin, checkpoints: await ops.checkpoints(), report }))
  })

  ui.get('/api', { preHandler: need('view') }, async (request, reply) => send(reply, apiPage(ctx(request, reply), openapi)))
  ui.get('/api/openapi.json', { preHandler: need('view') }, async () => openapi)

  await ui.listen({ host: config.console.host, port: config.console.port })
  const port = (ui.server.address() as AddressInfo).port
  tb.consoleUrl = `${tls !== undefined ? 'https' : 'http'}://${config.console.host.includes(':') ? `[${config.console.host}]` : config.console.host}:${port}`
  tb.logger.info({ console: tb.consoleUrl }, 'operator console listening')
  app.addHook('onClose', async () => { await ui.close() })
}, { name: 'tongban-console', dependencies: ['tongban-db', 'tongban-redis', 'tongban-keys', 'tongban-ledger', 'tongban-directory', 'tongban-delivery'] })

/**
 * Each partner's circuit as an operator needs to see it: the worse of its query breaker (this
 * process) and its delivery circuit (shared through Redis; unknown while Redis is away).
 */
async function circuitStates(
  queries: { breakerStates(): ReadonlyMap<string, string> },
  deliveries: { openCircuits(): Promise<ReadonlyMap<string, { state: string }>> },
): Promise<Map<string, string>> {
  const rank = { closed: 0, 'half-open': 1, open: 2 } as Record<string, number>
  const out = new Map<string, string>(queries.breakerStates())
  const delivery = await deliveries.openCircuits().catch(() => new Map<string, { state: string }>())
  for (const [partner, c] of delivery) if ((rank[c.state] ?? 0) > (rank[out.get(partner) ?? 'closed'] ?? 0)) out.set(partner, c.state)
  return out
}
