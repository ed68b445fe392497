import t from 'tap'
import { allRules } from '../../src/core/message-types.ts'
import { ROLES, type Role } from '../../src/core/roles.ts'
import { bodyOf, validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// Issue 10 "It must show" 3: every role × every message type × the endpoint's answer, on a fresh
// gateway. Each participant's directory entry lists every type in `send`, so the answer comes
// from the type's rule (DESIGN §5: who may send it), not from the entry's list. A role that is not
// the type's sender gets 403 TB_ERR_ROUTE_FORBIDDEN, on /v1/messages and /v1/queries alike, and
// nothing is stored (a court cannot query mortgages; a utility sends only its answers). A fund sends what a bank sends. The type's
// own senders get what their first message gets on a fresh gateway:
// accepted where the type opens (or needs no) case, answered for a query, and
// TB_ERR_CASE_NOT_FOUND where it answers or continues a case that does not exist yet.
const ID: Record<Role, string> = {
  REG: 'REG:231202',
  TAX: 'TAX:231202',
  HOUSING: 'HOUSING:231200',
  BANK: 'BANK:91230100MA1B2C3D49:suihua',
  FUND: 'FUND:12231200MB07654323',
  COURT: 'COURT:11231202MB00123459',
  UTILITY: 'UTILITY:91231200MA1W00001Q:water',
  ENTERPRISE: 'ENTERPRISE:91231202MA1K0D0W06',
}
const rules = allRules()
const types = rules.map((r) => r.type)

/** What the type's own sender gets first, on a fresh gateway. */
const FIRST: Record<string, [number, string | undefined]> = {
  'tax.assessment.request': [202, undefined],
  'housing.contract.filed': [202, undefined],
  'mortgage.query': [200, undefined],
  'certificate.verify': [200, undefined],
  'judicial.seizure.request': [202, undefined],
  'registration.application.forwarded': [202, undefined],
  'enterprise.registration.request': [202, undefined],
  'enterprise.preregistration.request': [202, undefined],
}
const first = (type: string): [number, string | undefined] => FIRST[type] ?? [409, 'TB_ERR_CASE_NOT_FOUND']

t.test('every role × every message type', async (t) => {
  t.same([...ROLES].sort(), Object.keys(ID).sort(), 'every role has a participant here')
  const w = await World.start({
    label: 'authz',
    partners: [
      ...ROLES.map((role) => ({
        id: ID[role], ...(role === 'COURT' || role === 'UTILITY' ? { divisions: ['231202'] } : {}),
        send: types, receive: rules.filter((r) => r.to.includes(role)).map((r) => r.type),
      })),
      // The centre of the county a cross-region application is forwarded to (a second REG).
      { id: 'REG:231221', send: [], receive: rules.filter((r) => r.to.includes('REG')).map((r) => r.type) },
    ],
  })
  t.teardown(() => w.close())
  const result = validFixture('mortgage.query.result')
  const verified = validFixture('certificate.verify.result')
  w.partner(ID.REG).server.onQuery(async (q) => (q.envelope.type === 'certificate.verify'
    ? { type: 'certificate.verify.result', body: { ...bodyOf(verified), queryId: q.envelope.id } }
    : { type: 'mortgage.query.result', body: { ...bodyOf(result), unitCode: q.envelope.unitCode as string } }))

  const answer = async (role: Role, type: string): Promise<[number, string | undefined]> => {
    const rule = rules.find((r) => r.type === type)
    const c = w.client(ID[role])
    const f = validFixture(type)
    // A court checks a certificate for enforcement (a lender for loan review, as the fixture has it).
    const body = type === 'certificate.verify' && role === 'COURT' ? { ...f.envelope.body, purpose: 'enforcement' } : f.envelope.body
    const res = await c.http('POST', rule?.kind === 'sync' ? '/v1/queries' : '/v1/messages', await c.encrypt(await c.sign(c.envelope({ ...f.envelope, body }))))
    return [res.status, res.status >= 400 ? (res.json as { code?: string }).code : undefined]
  }

  const cells = ROLES.flatMap((role) => types.map((type) => ({ role, type, allowed: rules.find((r) => r.type === type)?.from.includes(role) === true })))
  t.ok(types.every((type) => cells.some((c) => c.type === type && c.allowed)), 'each type has a sending role')
  const sends = (role: Role): string[] => cells.filter((c) => c.allowed && c.role === role).map((c) => c.type)
  t.same(sends('FUND'), sends('BANK'), 'a fund sends what a bank sends')
  t.same(sends('COURT'), ['judicial.seizure.request', 'judicial.release.request', 'certificate.verify'], 'a court: its requests and certificate checks, no mortgage query')
  t.same(sends('UTILITY'), ['utility.transfer.completed'], 'a utility: its answers to its notices, nothing else')
  t.same(sends('ENTERPRISE'), ['enterprise.registration.request', 'enterprise.preregistration.request'], 'a developer: its filings, nothing else')
  // The refusals first (they change nothing), then the types that find no case, then the openers.
  for (const c of cells.filter((x) => !x.allowed)) {
    t.same(await answer(c.role, c.type), [403, 'TB_ERR_ROUTE_FORBIDDEN'], `${c.role} × ${c.type}: forbidden`)
  }
  t.same(await w.counts().then((n) => [n.exchanges, n.cases, n.queries]), [0, 0, 0], 'the refusals stored nothing')
  const allowed = cells.filter((x) => x.allowed).sort((a, b) => first(b.type)[0] - first(a.type)[0])
  for (const c of allowed) {
    t.same(await answer(c.role, c.type), first(c.type), `${c.role} × ${c.type}: ${first(c.type).join(' ')}`)
  }
})
