import { bodyOf, validFixture } from './fixtures.ts'
import type { World } from './world.ts'

/**
 * A bank's pre-loan query (贷前查询) through the gateway, the registration centre answering from the
 * result fixture for the queried unit: it declares the fixture's loan application for that unit,
 * which is what lets the bank then apply for a mortgage registration on the unit's case.
 */
export async function preLoanQuery(w: World, bank: string, reg: string, unitCode?: string): Promise<void> {
  const result = validFixture('mortgage.query.result')
  w.partner(reg).server.onQuery(async (q) => ({ type: 'mortgage.query.result', body: { ...bodyOf(result), unitCode: q.envelope.unitCode as string } }))
  const q = validFixture('mortgage.query')
  const unit = unitCode ?? (q.envelope.unitCode as string)
  await w.client(bank).query({ ...q.envelope, unitCode: unit, body: { ...bodyOf(q), unitCode: unit } })
}
