import { TongbanError } from '../errors.ts'
import { hasCaseOnUnit, hasLoanApplication, recordLoanApplication } from '../store/queries.ts'
import { maskIdNumber, maskName } from '../util/mask.ts'
import type { Envelope } from './envelope.ts'
import type { PolicyContext, QueryPolicy, QuerySubject } from './queries.ts'
import { splitParticipantId } from './roles.ts'

interface Person { name: string; idType: string; idNumber: string }
interface MortgageQueryBody {
  unitCode?: string
  certificateNumber?: string
  purpose: 'pre-loan' | 'post-loan' | 'disposal'
  loanApplication: { applicationNo: string; applicants: Person[] }
}
type Json = Record<string, unknown>

// Natural persons' documents (居民身份证, 港澳台证件, 护照, 户口簿, 军官证): their holders' names and
// numbers are personal data. Organisations' codes (6 组织机构代码, 7 营业执照, 8 统一社会信用代码) are not.
const PERSON_ID_TYPES = new Set(['1', '2', '3', '4', '5', '99'])

/**
 * mortgage.query (抵押查询), DESIGN §2.6: a bank asks about one unit for a loan application.
 *
 * Who may ask: a pre-loan query (贷前审查) names its loan application and applicants, and from
 * then on that application is known for that unit; a post-loan or disposal query must refer to
 * such a known application for the same unit, or the bank must take part in a case on the unit
 * (e.g. its mortgage registration). Anything else is 403 TB_ERR_FORBIDDEN.
 *
 * What the bank sees: owners' names and ID numbers in clear only for owners who are applicants
 * of its loan application, masked otherwise; its own mortgages in full; other mortgagees'
 * mortgages only as what the register makes public to an interested party (不动产登记资料查询暂行办法:
 * that a mortgage exists, its rank, date and status); seizures, objections and
 * pre-registrations as registered (no personal data).
 */
export const mortgageQueryPolicy: QueryPolicy = {
  type: 'mortgage.query',
  answerType: 'mortgage.query.result',

  describe(query: Envelope): QuerySubject {
    const b = query.body as unknown as MortgageQueryBody
    return {
      unitCode: b.unitCode ?? query.unitCode ?? null,
      certificateNo: b.certificateNumber ?? null,
      purpose: b.purpose,
      applicationNo: b.loanApplication.applicationNo,
    }
  },

  async authorize(ctx: PolicyContext): Promise<void> {
    if (ctx.subject.purpose !== 'pre-loan' && ctx.subject.unitCode !== null) await requireKnownLoan(ctx, ctx.subject.unitCode)
  },

  async disclose(ctx: PolicyContext, answer: Envelope): Promise<Json> {
    const result = answer.body as Json
    const unitCode = result.unitCode as string
    if (ctx.subject.unitCode !== null && unitCode !== ctx.subject.unitCode) {
      throw new TongbanError('TB_ERR_PARTNER_BAD_ANSWER', 'the registration system answered about another unit')
    }
    const q = ctx.query.body as unknown as MortgageQueryBody
    if (ctx.subject.purpose === 'pre-loan') {
      await recordLoanApplication(ctx.db, { bank: ctx.asker.id, applicationNo: q.loanApplication.applicationNo, unitCode, queryId: ctx.queryId, at: ctx.now })
    } else if (ctx.subject.unitCode === null) {
      // Asked by certificate number: the unit is known only now.
      await requireKnownLoan(ctx, unitCode)
    }
    return minimise(result, ctx.asker.id, q.loanApplication.applicants)
  },
}

async function requireKnownLoan(ctx: PolicyContext, unitCode: string): Promise<void> {
  const bank = ctx.asker.id
  const applicationNo = ctx.subject.applicationNo ?? ''
  if (await hasLoanApplication(ctx.db, bank, applicationNo, unitCode)) return
  if (await hasCaseOnUnit(ctx.db, bank, unitCode)) return
  throw new TongbanError('TB_ERR_FORBIDDEN', 'no loan application of yours covers this unit: a pre-loan query must name it first', { detail: { applicationNo } })
}

/** The share of a mortgage.query.result that `bank` may see (see mortgageQueryPolicy). */
export function minimise(result: Json, bank: string, applicants: readonly Person[]): Json {
  const bankUscc = splitParticipantId(bank)?.code
  const isApplicant = (o: Person): boolean => applicants.some((a) => a.idType === o.idType && a.idNumber === o.idNumber && a.name === o.name)
  const ownership = result.ownership as Json
  const owners = (ownership.owners as Array<Person & Json>).map((o) => {
    if (!PERSON_ID_TYPES.has(o.idType) || isApplicant(o)) return o
    return { ...o, name: maskName(o.name), idNumber: maskIdNumber(o.idNumber) }
  })
  const mortgages = (result.mortgages as Json[]).map((m) => {
    const mortgagee = m.mortgagee as { uscc?: string } | undefined
    if (m.restricted === true || (mortgagee?.uscc !== undefined && mortgagee.uscc === bankUscc)) return m
    return { restricted: true, rank: m.rank, registeredAt: m.registeredAt, status: m.status }
  })
  return { ...result, ownership: { ...ownership, owners }, mortgages }
}

interface CertificateVerifyBody { certificateNumber: string; digest: { alg: string; value: string }; purpose: string }

/**
 * certificate.verify (电子证照查验): a bank, a provident fund centre or a court asks the centre that
 * issued a certificate whether it stands, each for its own purpose (a lender for loan review, a
 * court for enforcement). It names only what it holds: the number and the document's digest. The answer is the status alone, for the certificate asked
 * about; its schema admits nothing more (no holder, no unit), and the gateway passes no unit code
 * on either.
 */
export const certificateVerifyPolicy: QueryPolicy = {
  type: 'certificate.verify',
  answerType: 'certificate.verify.result',
  answerShowsUnit: false,

  describe(query: Envelope): QuerySubject {
    const b = query.body as unknown as CertificateVerifyBody
    return { unitCode: null, certificateNo: b.certificateNumber, purpose: b.purpose, applicationNo: null }
  },

  async authorize(ctx: PolicyContext): Promise<void> {
    const own = ctx.asker.role === 'COURT' ? 'enforcement' : 'loan-review'
    if (ctx.subject.purpose !== own) {
      throw new TongbanError('TB_ERR_FORBIDDEN', `a ${ctx.asker.role === 'COURT' ? 'court checks certificates for enforcement' : 'lender checks certificates for loan-review'}`, { detail: { purpose: ctx.subject.purpose ?? '' } })
    }
  },

  async disclose(ctx: PolicyContext, answer: Envelope): Promise<Json> {
    const result = answer.body as Json
    if (result.certificateNumber !== ctx.subject.certificateNo) {
      throw new TongbanError('TB_ERR_PARTNER_BAD_ANSWER', 'the registration system answered about another certificate', { detail: { reason: 'another certificate' } })
    }
    return result
  },
}

/** The query policies by query type. */
export const QUERY_POLICIES: ReadonlyMap<string, QueryPolicy> = new Map([
  [mortgageQueryPolicy.type, mortgageQueryPolicy],
  [certificateVerifyPolicy.type, certificateVerifyPolicy],
])
