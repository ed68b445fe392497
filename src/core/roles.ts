/** The kinds of agency that connect to the gateway (the ROLE of a participant id). */
export const ROLES = ['REG', 'TAX', 'HOUSING', 'BANK', 'FUND', 'COURT', 'UTILITY', 'ENTERPRISE'] as const
export type Role = (typeof ROLES)[number]

/** The services a utility company (UTILITY) transfers with a title (水电气热同步过户): the SUBSYSTEM of its id. */
export const UTILITY_SERVICES = ['water', 'power', 'gas', 'heating'] as const
export type UtilityService = (typeof UTILITY_SERVICES)[number]

/** The parts of a participant id `ROLE:CODE[:SUBSYSTEM]`. */
export interface ParticipantIdParts {
  readonly role: Role
  readonly code: string
  readonly subsystem?: string
}

/** Splits a participant id (format checked elsewhere: formats.ts). */
export function splitParticipantId(id: string): ParticipantIdParts | undefined {
  const [role, code, subsystem, ...rest] = id.split(':')
  if (rest.length > 0 || code === undefined || !(ROLES as readonly string[]).includes(role ?? '')) return undefined
  return subsystem === undefined ? { role: role as Role, code } : { role: role as Role, code, subsystem }
}

/** The 6-digit administrative division of a 28-character unit code. */
export function divisionOfUnitCode(unitCode: string): string {
  return unitCode.slice(0, 6)
}

/**
 * Whether an agency serving division `served` is responsible for `division` (GB/T 2260 codes
 * are hierarchical: 23 province, 2312 city, 231202 county). A county code covers itself; a city
 * code (`xxxx00`) covers its counties (`xxxx01`–`xxxx99`); a province code (`xx0000`) covers
 * every division of the province. Nothing else covers across.
 */
export function divisionCovers(served: string, division: string): boolean {
  if (served === division) return true
  if (served.endsWith('0000')) return division.startsWith(served.slice(0, 2))
  if (served.endsWith('00')) return division.startsWith(served.slice(0, 4))
  return false
}

/**
 * Of the participants with `role`, the one responsible for `division`: the most specific whose
 * divisions cover it (a county bureau before its city's), or undefined when none does.
 */
export function responsibleFor<P extends { readonly id: string; readonly role: Role; readonly divisions: readonly string[] }>(
  participants: Iterable<P>, role: Role, division: string,
): P | undefined {
  let best: { p: P; rank: number } | undefined
  for (const p of participants) {
    if (p.role !== role) continue
    for (const d of p.divisions) {
      if (!divisionCovers(d, division)) continue
      // Exact beats city beats province.
      const rank = d === division ? 3 : d.endsWith('0000') ? 1 : 2
      if (best === undefined || rank > best.rank) best = { p, rank }
    }
  }
  return best?.p
}
