import t from 'tap'
import { randomUUID } from 'node:crypto'
import type { OperatorRole } from '../../src/store/operators.ts'
import { anonymousSession, codeOf, logIn as logInAt, signIn, type ConsoleSession as Session } from '../helpers/console-session.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { walkConsole, type ConsoleTriggers, type Trigger } from '../helpers/route-walk.ts'
import { DATABASE_URL } from '../helpers/services.ts'
import { TcpProxy } from '../helpers/tcp-proxy.ts'
import { World } from '../helpers/world.ts'

// Issue: "a test sends one request per (route, code) pair that the catalogue promises", for the
// operator console (CONSOLE_ROUTE_ERRORS in src/inbound/route-errors.ts). Every code comes from
// the running gateway for its real cause, over plain HTTP on the console's own listener:
// PostgreSQL gone is a TCP proxy in front of it that the test cuts, a role's refusal is an
// account of that role signed in with its password and TOTP code, and so on.

const REG = 'REG:231202'
const TAX = 'TAX:231202'
const PASSWORD = 'a long pass phrase for the walk'
/** console.maxFailures: small, so that a few wrong passwords lock an account. */
const MAX_FAILURES = 2
/** The console reads forms of at most 16 KiB (its listener's bodyLimit). */
const OVER_LIMIT = 'x'.repeat(17_000)
const FORM = 'application/x-www-form-urlencoded'

// The gateway reaches PostgreSQL through the proxy; the World's own pool goes straight to it.
const db = new URL(DATABASE_URL)
const proxy = await TcpProxy.start(db.hostname, Number(db.port || 5432))
const w = await World.start({
  label: 'walkconsole',
  config: {
    databaseUrl: proxy.rewrite(DATABASE_URL),
    // The World's console settings are replaced as a whole: listener included.
    console: { enabled: true, host: '127.0.0.1', port: 0, maxFailures: MAX_FAILURES },
    // No background transaction while the proxy is cut (as in test/gateway/route-errors-reads.test.ts):
    // the ledger's integrator and the deadline check do not run during the walk.
    ledger: { integrateMs: 60_000 },
    deadlines: { checkIntervalMs: 3_600_000 },
  },
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
})
t.teardown(async () => {
  await w.close()
  await proxy.close()
})
const base = w.app.tb.consoleUrl as string

// One real message, delivered: a case, and a delivery that is not dead.
const request = validFixture('tax.assessment.request')
const caseId = request.envelope.caseId as string
const sent = await w.client(REG).send({ ...request.envelope })
await w.partner(TAX).server.waitFor(1)
await w.deliveryStatus() // the partner has it a moment before PostgreSQL says so
const deliveryId = (await w.db.query<{ id: string }>(`SELECT id FROM deliveries WHERE exchange_id = $1 AND status = 'delivered'`, [sent.exchangeId])).rows[0]?.id
if (deliveryId === undefined) throw new Error('the message was not delivered')
if ((await w.db.query('SELECT 1 FROM cases WHERE case_id = $1', [caseId])).rowCount !== 1) throw new Error('the message opened no case')

const get = (path: string, cookie?: string): Promise<Response> => fetch(`${base}${path}`, { redirect: 'manual', headers: cookie === undefined ? {} : { cookie } })
const post = (path: string, o: { cookie?: string; body: string; type?: string }): Promise<Response> =>
  fetch(`${base}${path}`, { method: 'POST', redirect: 'manual', headers: { ...(o.cookie === undefined ? {} : { cookie: o.cookie }), 'content-type': o.type ?? FORM }, body: o.body })
const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString()
const anonymous = (): Promise<Session> => anonymousSession(base)
const logIn = (username: string, password: string, code: string): Promise<Response> => logInAt(base, username, password, code)

/** A new account of `role`, signed in: its session cookie and the CSRF token of its overview page. */
async function signedIn(username: string, role: OperatorRole): Promise<Session> {
  const { totpSecret } = await w.app.tb.operators.add({ username, displayName: username, role, password: PASSWORD, by: 'test' })
  return signIn(base, username, PASSWORD, totpSecret)
}

// One account per role; each role's session can open the pages and send the forms it may.
const viewer = await signedIn('vera', 'viewer')
const operator = await signedIn('otto', 'operator')
const auditor = await signedIn('aude', 'auditor')
// A session that never signed in: its CSRF token is good, it has no operator.
const nobody = await anonymous()
// An account for the lock-out only (never signed in here).
const lena = (await w.app.tb.operators.add({ username: 'lena', displayName: 'lena', role: 'viewer', password: PASSWORD, by: 'test' })).totpSecret

/**
 * `send` while the gateway cannot reach PostgreSQL. Every request with a session cookie reads
 * its session there first (@fastify/session's onRequest hook), before the body's CSRF token is
 * checked (preValidation): a POST with a good token is refused too.
 */
function withoutPostgres(send: () => Promise<Response>): Trigger {
  return async () => {
    proxy.cut()
    try {
      return await send()
    } finally {
      proxy.restore()
    }
  }
}

/** A page of `as`'s, with PostgreSQL gone. */
const pageUnavailable = (path: string, as: Session = operator): { TB_ERR_UNAVAILABLE: Trigger } => ({ TB_ERR_UNAVAILABLE: withoutPostgres(() => get(path, as.cookie)) })

/**
 * The refusals of any console form (route-errors.ts FORM), each on a form that `as` could
 * otherwise send: no CSRF token; a body over 16 KiB; a body of a type the console does not
 * read; PostgreSQL gone.
 */
function formRefusals(path: string, as: Session, fields: Record<string, string> = {}) {
  return {
    TB_ERR_CSRF: () => post(path, { cookie: as.cookie, body: form(fields) }),
    TB_ERR_BODY_TOO_LARGE: () => post(path, { cookie: as.cookie, body: form({ _csrf: as.csrf, ...fields, pad: OVER_LIMIT }) }),
    TB_ERR_CONTENT_TYPE: () => post(path, { cookie: as.cookie, body: `<form><_csrf>${as.csrf}</_csrf></form>`, type: 'application/xml' }),
    TB_ERR_UNAVAILABLE: withoutPostgres(() => post(path, { cookie: as.cookie, body: form({ _csrf: as.csrf, ...fields }) })),
  }
}

/**
 * The refusals of a console action (route-errors.ts ACTION): those of a form, a session with a
 * good CSRF token but no operator in it, and a signed-in viewer (who may only look). (A disabled
 * operator's session is not the way to TB_ERR_TOKEN_MISSING: disabling deletes the account's
 * sessions, CSRF secret and all, so the next form is TB_ERR_CSRF.)
 */
function actionRefusals(path: string, as: Session, fields: Record<string, string> = {}) {
  return {
    ...formRefusals(path, as, fields),
    TB_ERR_TOKEN_MISSING: () => post(path, { cookie: nobody.cookie, body: form({ _csrf: nobody.csrf, ...fields }) }),
    TB_ERR_FORBIDDEN: () => post(path, { cookie: viewer.cookie, body: form({ _csrf: viewer.csrf, ...fields }) }),
  }
}

const unknownCase = '231202-2026-999999'
const closeStep = (c: string, step: string): string => `/cases/${c}/steps/${step}/close`
const because = { reason: '申请人已撤回' }

const triggers: ConsoleTriggers = {
  // Pages that need no role beyond `view` (or none): only PostgreSQL gone refuses them.
  'GET /': pageUnavailable('/'),
  'GET /static/console.css': pageUnavailable('/static/console.css'),
  'GET /favicon.ico': pageUnavailable('/favicon.ico'),
  'GET /lang': pageUnavailable('/lang?to=en&back=/overview'),
  'GET /login': pageUnavailable('/login', nobody),

  'POST /login': {
    ...formRefusals('/login', nobody, { username: 'otto', password: PASSWORD, code: '000000' }),
    TB_ERR_LOGIN_FAILED: () => logIn('nobody', PASSWORD, '000000'),
    // MAX_FAILURES wrong passwords, then the right password and code: locked all the same.
    TB_ERR_ACCOUNT_LOCKED: async () => {
      for (let i = 0; i < MAX_FAILURES; i++) {
        const r = await logIn('lena', 'not the pass phrase at all', codeOf(lena))
        await r.arrayBuffer()
        if (r.status !== 401) throw new Error(`a wrong password: ${r.status}`)
      }
      return logIn('lena', PASSWORD, codeOf(lena))
    },
  },
  // The operator's own log-out form (refused every time: the session stays signed in).
  'POST /logout': formRefusals('/logout', operator),

  'GET /overview': pageUnavailable('/overview'),
  'GET /cases': pageUnavailable(`/cases?q=${caseId}`),
  'GET /cases/:caseId': {
    // Personal data in clear is for operators and auditors.
    TB_ERR_FORBIDDEN: () => get(`/cases/${caseId}?unmask=1`, viewer.cookie),
    TB_ERR_BAD_REQUEST: () => get('/cases/not-a-case', viewer.cookie),
    TB_ERR_NOT_FOUND: () => get(`/cases/${unknownCase}`, viewer.cookie),
    ...pageUnavailable(`/cases/${caseId}`),
  },
  'POST /cases/:caseId/steps/:stepId/close': {
    ...actionRefusals(closeStep(caseId, randomUUID()), operator, because),
    // No reason given (src/core/steps.ts closeStepAsOperator).
    TB_ERR_BAD_REQUEST: () => post(closeStep(caseId, randomUUID()), { cookie: operator.cookie, body: form({ _csrf: operator.csrf }) }),
    // A step the case does not have.
    TB_ERR_NOT_FOUND: () => post(closeStep(caseId, randomUUID()), { cookie: operator.cookie, body: form({ _csrf: operator.csrf, ...because }) }),
  },

  'GET /dead': pageUnavailable('/dead'),
  'GET /dead/:id': {
    // The replay page is for operators.
    TB_ERR_FORBIDDEN: () => get(`/dead/${deliveryId}`, viewer.cookie),
    TB_ERR_NOT_FOUND: () => get(`/dead/${randomUUID()}`, operator.cookie),
    ...pageUnavailable(`/dead/${deliveryId}`),
  },
  'POST /dead/:id/replay': {
    ...actionRefusals(`/dead/${deliveryId}/replay`, operator),
    TB_ERR_NOT_FOUND: () => post(`/dead/${randomUUID()}/replay`, { cookie: operator.cookie, body: form({ _csrf: operator.csrf }) }),
    // Only a dead delivery is replayed; this one was delivered.
    TB_ERR_INVALID_STATE: () => post(`/dead/${deliveryId}/replay`, { cookie: operator.cookie, body: form({ _csrf: operator.csrf }) }),
  },
  'GET /deliveries/:id': {
    TB_ERR_NOT_FOUND: () => get(`/deliveries/${randomUUID()}`, viewer.cookie),
    ...pageUnavailable(`/deliveries/${deliveryId}`, viewer),
  },

  'GET /partners': pageUnavailable('/partners'),
  // The query record and the ledger are for auditors.
  'GET /queries': {
    TB_ERR_FORBIDDEN: () => get('/queries', operator.cookie),
    ...pageUnavailable('/queries', auditor),
  },
  'GET /ledger': {
    TB_ERR_FORBIDDEN: () => get('/ledger', viewer.cookie),
    ...pageUnavailable('/ledger', auditor),
  },
  'POST /ledger/verify': actionRefusals('/ledger/verify', auditor),

  'GET /api': pageUnavailable('/api'),
  'GET /api/openapi.json': pageUnavailable('/api/openapi.json'),
}

await walkConsole(t, triggers)

t.test('the sessions outlived the walk, and every refusal was one its route declares', async (t) => {
  // Nothing above signed anyone out or broke a session: the refusals were not side effects.
  for (const [who, s, path] of [['viewer', viewer, '/overview'], ['operator', operator, `/cases/${caseId}?unmask=1`], ['auditor', auditor, '/ledger']] as const) {
    const r = await get(path, s.cookie)
    await r.arrayBuffer()
    t.not(r.status, 303, `the ${who} is still signed in`)
  }
  t.same(w.app.tb.responseFaults, [], 'no answer outside its route\'s declared errors')
})
