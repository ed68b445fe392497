import { readdirSync, readFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'

/** One file of test/fixtures/<agency>/<case>.json (agency = the sender's). */
export interface Fixture {
  readonly agency: 'reg' | 'tax' | 'housing' | 'bank' | 'court' | 'utility' | 'enterprise'
  readonly file: string
  readonly description: string
  readonly envelope: { type: string; v: number; caseId?: string; unitCode?: string; body: Record<string, unknown> }
  readonly expect?: { code: string; pointer: string; rule: string }
}

export const AGENCIES = ['reg', 'tax', 'housing', 'bank', 'court', 'utility', 'enterprise'] as const

/** The participant that sends each agency's fixtures in these tests. */
export const SENDERS: Record<Fixture['agency'], string> = {
  reg: 'REG:231202',
  tax: 'TAX:231202',
  housing: 'HOUSING:231200',
  bank: 'BANK:91230100MA1B2C3D49:suihua',
  court: 'COURT:11231202MB00123459',
  utility: 'UTILITY:91231200MA1W00001Q:water',
  enterprise: 'ENTERPRISE:91231202MA1K0D0W06',
}

const root = new URL('../fixtures/', import.meta.url)

/** Every message fixture, in a stable order. */
export function loadFixtures(): Fixture[] {
  return AGENCIES.flatMap((agency) =>
    readdirSync(new URL(`${agency}/`, root))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((file) => ({ agency, file, ...(JSON.parse(readFileSync(new URL(`${agency}/${file}`, root), 'utf8')) as Omit<Fixture, 'agency' | 'file'>) })),
  )
}

/** The fixture's envelope with what the tests fill in (id, from, iat, nonce). */
export function fullEnvelope(f: Fixture): Record<string, unknown> {
  return { id: randomUUID(), from: SENDERS[f.agency], iat: 1_772_419_200, nonce: 'bm9uY2Utbm9uY2Utbm9uY2U', ...f.envelope }
}

/** test/fixtures/personal-data.json. */
export function personalData(): { names: string[]; idNumbers: string[]; phones: string[]; addresses: string[] } {
  return JSON.parse(readFileSync(new URL('personal-data.json', root), 'utf8')) as ReturnType<typeof personalData>
}
