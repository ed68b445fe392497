/** The kinds of agency that connect to the gateway (the ROLE of a participant id). */
export const ROLES = ['REG', 'TAX', 'HOUSING', 'BANK', 'COURT'] as const
export type Role = (typeof ROLES)[number]

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
