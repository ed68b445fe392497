import type { Db, Tx } from './db.ts'

export interface HousingContract {
  readonly unitCode: string
  readonly contractNumber: string
  readonly filingNumber: string
  readonly sender: string
  readonly exchangeId: string
  readonly filedAt: Date
}

/** Records (or, for a re-filing, replaces) a filed contract. */
export async function upsertHousingContract(tx: Tx, c: HousingContract): Promise<void> {
  await tx.query(
    `INSERT INTO housing_contracts (unit_code, contract_number, filing_number, sender, exchange_id, filed_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (unit_code, contract_number) DO UPDATE SET filing_number = $3, sender = $4, exchange_id = $5, filed_at = $6`,
    [c.unitCode, c.contractNumber, c.filingNumber, c.sender, c.exchangeId, c.filedAt],
  )
}

/** The filed contract of a unit by contract number or filing number. */
export async function findHousingContract(db: Db | Tx, unitCode: string, ref: { contractNumber?: string; filingNumber?: string }): Promise<HousingContract | undefined> {
  return (await db.query<HousingContract>(
    `SELECT unit_code AS "unitCode", contract_number AS "contractNumber", filing_number AS "filingNumber", sender, exchange_id AS "exchangeId", filed_at AS "filedAt"
       FROM housing_contracts WHERE unit_code = $1 AND (contract_number = $2 OR filing_number = $3) ORDER BY filed_at DESC LIMIT 1`,
    [unitCode, ref.contractNumber ?? null, ref.filingNumber ?? null],
  )).rows[0]
}
