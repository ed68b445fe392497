import t from 'tap'
import { signElectronicCertificate } from '../../src/client/index.ts'
import { TestClock } from '../helpers/clock.ts'
import { bodyOf, validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// Issue 10 §1 (异地申请·属地审核·远程打印): a centre accepts an application for a unit in another
// division and forwards it to the unit's centre; that centre examines it into a case of its own
// (the two cases are linked), enters it in its register and sends the certificate back, which the
// forwarding centre prints. The cross-region step spans the whole transfer: five working days, or
// one hour for a plain transfer (deadlines.hours).
const BL = 'REG:231202' // 北林区: where the applicants stand
const WK = 'REG:231221' // 望奎县: where the unit is
const TAX = 'TAX:231221'
const QA = 'REG:231222' // 庆安县: a third centre
// Every centre both forwards (where applicants stand) and examines (where its units are).
const CENTRE = ['registration.application.forwarded', 'certificate.printed', 'registration.application.examined', 'certificate.print.request']

for (const suite of ['national', 'international'] as const) {
  t.test(`a cross-region application, examined where the unit is, printed where it was made (${suite})`, async (t) => {
    const clock = new TestClock()
    const w = await World.start({
      label: `xreg${suite.slice(0, 3)}`,
      clock,
      config: { deadlines: { checkIntervalMs: 3_600_000 } },
      partners: [
        { id: BL, suite, send: CENTRE, receive: CENTRE },
        { id: WK, suite, send: [...CENTRE, 'tax.assessment.request'], receive: CENTRE },
        { id: TAX, suite, send: [], receive: ['tax.assessment.request'] },
        { id: QA, suite, send: CENTRE, receive: CENTRE },
      ],
    })
    t.teardown(() => w.close())
    const forwarded = validFixture('registration.application.forwarded')
    const caseId = forwarded.envelope.caseId as string
    const unitCode = forwarded.envelope.unitCode as string
    const examined = validFixture('registration.application.examined', (f) => !f.file.includes('returned'))
    const homeCaseId = bodyOf(examined).homeCaseId as string
    const print = validFixture('certificate.print.request')
    const printBody = bodyOf(print)
    const signedPrint = async (over: Record<string, unknown> = {}) => ({
      ...print.envelope,
      body: {
        ...printBody,
        electronicCertificate: await signElectronicCertificate({
          certificateNumber: printBody.certificateNumber as string, kind: 'title', unitCode, issuedAt: printBody.registeredAt as string,
          document: { digest: (printBody.document as { digest: { alg: 'SM3'; value: string } }).digest }, ...over,
        }, w.partner(WK).signingKey),
      },
    })
    const refuse = async (as: string, env: Record<string, unknown>): Promise<[number, string]> => {
      const c = w.client(as)
      const res = await c.http('POST', '/v1/messages', await c.encrypt(await c.sign(c.envelope(env as never))))
      return [res.status, (res.json as { code: string }).code]
    }
    type CaseDoc = {
      openedBy: string; participants: string[]; linkedCase: { caseId: string; relation: string; openedBy: string | null } | null
      steps: Array<{ kind: string; status: string; openedAt: string; dueAt: string | null; overdue: boolean; responder: string }>
      timeline: Array<{ event: string; [k: string]: unknown }>
    }
    const waitType = async (id: string, type: string, n = 1): Promise<void> => {
      const end = Date.now() + 15_000
      while (w.partner(id).server.ofType(type).length < n) {
        if (Date.now() > end) throw new Error(`${id} did not receive ${type}`)
        await new Promise((r) => setTimeout(r, 20))
      }
    }
    const view = async (as: string, id = caseId) => (await w.client(as).getCase(id)).json as CaseDoc

    t.test('the accepting centre forwards it to the centre of the unit\'s division', async (t) => {
      t.same(await refuse(WK, { ...forwarded.envelope, caseId: '231221-2026-000901' }), [403, 'TB_ERR_ROUTE_FORBIDDEN'], 'not to itself: its own unit needs no forwarding')
      const r = await w.client(BL).send({ ...forwarded.envelope })
      t.equal(r.status, 202)
      await waitType(WK, 'registration.application.forwarded')
      const got = w.partner(WK).server.ofType('registration.application.forwarded')[0]
      t.same(got?.envelope.body, bodyOf(forwarded), 'with the applicants, the registration type and the materials')
      const step = (await view(BL)).steps[0]
      t.same([step?.kind, step?.status, step?.responder], ['cross-region', 'open', WK])
      t.equal(Date.parse(step?.dueAt as string) - Date.parse(step?.openedAt as string), 3_600_000, 'a plain transfer: due in one hour (deadlines.hours cross-region.plain)')
    })

    t.test('a transfer that is not plain has the five working days', async (t) => {
      await w.client(BL).send({ ...forwarded.envelope, caseId: '231202-2026-000902', body: { ...bodyOf(forwarded), plainTransfer: false } })
      const step = (await view(BL, '231202-2026-000902')).steps[0]
      t.ok(Date.parse(step?.dueAt as string) - Date.parse(step?.openedAt as string) >= 5 * 86_400_000, `due ${step?.dueAt ?? ''}`)
    })

    t.test('nothing comes back for printing before the home centre accepted the application', async (t) => {
      t.same(await refuse(WK, await signedPrint()), [409, 'TB_ERR_CASE_CONFLICT'])
    })

    t.test('the home centre accepts it into a case of its own; the cases are linked', async (t) => {
      t.same(await refuse(WK, { ...examined.envelope, body: { ...bodyOf(examined), homeCaseId: '231202-2026-000777' } }), [409, 'TB_ERR_CASE_MISMATCH'], 'not a case of the accepting centre\'s division')
      t.same(await refuse(BL, { ...examined.envelope }), [409, 'TB_ERR_CASE_NOT_FOUND'], 'only the centre the application waits for examines it')
      await w.client(WK).send({ ...examined.envelope })
      await waitType(BL, 'registration.application.examined')
      const fwd = await view(BL)
      t.same(fwd.linkedCase, { caseId: homeCaseId, relation: 'home', openedBy: WK }, 'the forwarded case points to the home case')
      t.same(fwd.steps.map((s) => [s.kind, s.status]), [['cross-region', 'open']], 'the whole transfer is still open')
      t.ok(fwd.timeline.some((e) => e.event === 'case.linked' && e.linkedCase === homeCaseId))
      const home = await view(WK, homeCaseId)
      t.same([home.openedBy, home.linkedCase], [WK, { caseId, relation: 'forwarded', openedBy: BL }], 'the home case, the home centre\'s, points back')
      t.equal((await w.client(BL).getCase(homeCaseId)).status, 200, 'the accepting centre reads the home case through the link')
      t.equal((await w.client(QA).getCase(homeCaseId)).status, 404, 'a third centre reads neither')
      t.equal((await w.client(QA).getCase(caseId)).status, 404)
      t.same(await refuse(WK, { ...validFixture('registration.application.examined', (f) => f.file.includes('returned')).envelope }), [409, 'TB_ERR_CASE_CONFLICT'], 'examined once: not returned after it was accepted')
      t.same(await refuse(WK, { ...examined.envelope, body: { ...bodyOf(examined), homeCaseId: '231221-2026-000053' } }), [409, 'TB_ERR_CASE_CONFLICT'], 'linked once, to one home case')
      // The home centre goes on with its own case (tax, the register) as with any other.
      await w.client(WK).send({ ...validFixture('tax.assessment.request').envelope, caseId: homeCaseId, unitCode, body: { ...bodyOf(validFixture('tax.assessment.request')), property: { ...(bodyOf(validFixture('tax.assessment.request')).property as object), unitCode } } })
      await w.partner(TAX).server.waitFor(1)
      t.equal((await w.client(TAX).getCase(caseId)).status, 404, 'the tax bureau of the home case does not see the forwarded case')
    })

    t.test('the certificate comes back with its electronic certificate, and is printed', async (t) => {
      t.same(await refuse(BL, await signedPrint()), [409, 'TB_ERR_CASE_NOT_FOUND'], 'only the home centre sends it')
      t.same(await refuse(WK, await signedPrint({ certificateNumber: '黑(2026)望奎县不动产权第0000513号' })), [400, 'TB_ERR_SCHEMA'], 'an electronic certificate of another title is refused')
      await w.client(WK).send(await signedPrint())
      await waitType(BL, 'certificate.print.request')
      t.same((await view(BL)).steps.map((s) => [s.kind, s.status, s.responder]), [['cross-region', 'completed', WK], ['print', 'open', BL]])
      await w.client(BL).send({ ...validFixture('certificate.printed').envelope })
      await waitType(WK, 'certificate.printed')
      t.same(w.partner(WK).server.ofType('certificate.printed')[0]?.envelope.body, bodyOf(validFixture('certificate.printed')))
      t.same((await view(WK)).steps.map((s) => [s.kind, s.status]), [['cross-region', 'completed'], ['print', 'completed']], 'one timeline, seen from either centre')
    })

    t.test('a returned application closes the cross-region step as rejected', async (t) => {
      const returned = validFixture('registration.application.examined', (f) => f.file.includes('returned'))
      await w.client(WK).send({ ...returned.envelope, caseId: '231202-2026-000902' })
      const c = await view(BL, '231202-2026-000902')
      t.same([c.steps.map((s) => [s.kind, s.status]), c.linkedCase], [[['cross-region', 'rejected']], null])
      t.same(await refuse(WK, { ...(await signedPrint()), caseId: '231202-2026-000902' }), [409, 'TB_ERR_CASE_NOT_FOUND'], 'and nothing is printed for it')
    })

    t.test('two examinations at once: one is accepted, the other refused, and the case links once', async (t) => {
      const fresh = '231202-2026-000904'
      await w.client(BL).send({ ...forwarded.envelope, caseId: fresh })
      await waitType(WK, 'registration.application.forwarded', 2)
      const wk = w.client(WK)
      const returned = validFixture('registration.application.examined', (f) => f.file.includes('returned'))
      const bodies = await Promise.all([
        { ...examined.envelope, caseId: fresh, body: { ...bodyOf(examined), homeCaseId: '231221-2026-000061' } },
        { ...examined.envelope, caseId: fresh, body: { ...bodyOf(examined), homeCaseId: '231221-2026-000062' } },
        { ...returned.envelope, caseId: fresh },
      ].map(async (env) => wk.encrypt(await wk.sign(wk.envelope(env as never)))))
      const answers = await Promise.all(bodies.map(async (b) => {
        const r = await wk.http('POST', '/v1/messages', b)
        return r.status === 202 ? 'accepted' : `${r.status} ${(r.json as { code: string }).code}`
      }))
      t.equal(answers.filter((a) => a === 'accepted').length, 1, `exactly one examination stands (${answers.join(', ')})`)
      t.ok(answers.every((a) => a === 'accepted' || a === '409 TB_ERR_CASE_CONFLICT' || a === '409 TB_ERR_CASE_NOT_FOUND'), 'the others are refused as conflicts (or find the step closed)')
      const c = await view(BL, fresh)
      const winner = answers.findIndex((a) => a === 'accepted')
      if (winner === 2) t.same([c.linkedCase, c.steps.map((x) => x.status)], [null, ['rejected']], 'returned: no link')
      else t.same(c.linkedCase?.caseId, winner === 0 ? '231221-2026-000061' : '231221-2026-000062', 'linked to the home case of the examination that stood')
      const links = await w.db.query<{ n: number }>('SELECT count(*)::int AS n FROM cases WHERE home_case IS NOT NULL AND case_id = $1', [fresh])
      t.equal(links.rows[0]?.n, winner === 2 ? 0 : 1, 'one link, or none')
    })

    t.test('a plain transfer not done within the hour is flagged', async (t) => {
      await w.client(BL).send({ ...forwarded.envelope, caseId: '231202-2026-000903' })
      clock.advance(61 * 60_000)
      t.ok((await w.app.tb.deadlines.checkOverdue()) >= 1)
      const c = await view(BL, '231202-2026-000903')
      t.same(c.steps.map((s) => [s.kind, s.overdue]), [['cross-region', true]])
      t.ok(c.timeline.some((e) => e.event === 'step.overdue' && e.kind === 'cross-region'))
    })

    t.test('no personal data in logs or in clear in the database', async (t) => w.checkLogs(t))
  })
}
