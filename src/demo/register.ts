/** A person as the demo's register and messages carry them (fake, format-valid data). */
export interface Person {
  readonly name: string
  /** 证件种类: 1 居民身份证 (the default), 8 统一社会信用代码 for an organisation. */
  readonly idType?: string
  readonly idNumber: string
  readonly phone: string
  readonly address: string
}

/** A mortgage on the register. */
export interface RegisteredMortgage {
  readonly mortgagee: { readonly name: string; readonly uscc: string }
  readonly mortgageType: 'ordinary' | 'maximum'
  readonly amount: string
  readonly term: { readonly start: string; readonly end: string }
  readonly rank: number
  readonly certificateNumber: string
  readonly registeredAt: string
  status: 'current' | 'historical'
}

/** A seizure on the register (查封登记), as a court's notice had it entered. */
export interface RegisteredSeizure {
  readonly court: string
  /** 查封文号 CFWH: the ruling. */
  readonly documentNumber: string
  /** 协助执行通知书文号: what the court's release names. */
  readonly notice: string
  /** 业务号 YWH of the seizure's registration. */
  readonly registrationNumber: string
  readonly kind: 'seizure' | 'pre-seizure' | 'waiting'
  readonly from: string
  readonly to?: string
  readonly registeredAt: string
}

/** One unit on the register: its title and encumbrances. */
export interface RegisteredUnit {
  readonly unitCode: string
  readonly location: string
  readonly buildingArea: string
  certificateNumber: string
  owners: Person[]
  registeredAt: string
  readonly mortgages: RegisteredMortgage[]
  readonly preregistrations: Array<{ kind: string; certificateNumber: string; registeredAt: string }>
  readonly seizures: RegisteredSeizure[]
}

/**
 * The simulated registration centre's register (不动产登记簿): what it answers a bank's query
 * from, and what it changes when it enters a transfer or a mortgage.
 */
export class DemoRegister {
  readonly #units = new Map<string, RegisteredUnit>()
  #certificates = 1200
  /** Electronic certificates issued (by number): the digest of the document and whether it stands. */
  readonly #issued = new Map<string, { digest: string; status: 'valid' | 'superseded' | 'cancelled'; changedAt?: string }>()

  /** Records an electronic certificate as issued, with its document's digest (hex). */
  issue(certificateNumber: string, digest: string): void {
    this.#issued.set(certificateNumber, { digest, status: 'valid' })
  }

  /** A certificate stops being valid: replaced by a later one, or cancelled (e.g. a discharged mortgage). */
  retire(certificateNumber: string, status: 'superseded' | 'cancelled', at: string): void {
    const c = this.#issued.get(certificateNumber)
    if (c !== undefined) this.#issued.set(certificateNumber, { ...c, status, changedAt: at })
  }

  /** The certificate.verify.result body for a number and a digest: only a matching pair has a status. */
  verify(queryId: string, certificateNumber: string, digest: string, now: Date): Record<string, unknown> {
    const c = this.#issued.get(certificateNumber)
    const known = c !== undefined && c.digest === digest
    return {
      queryId, certificateNumber, status: known ? c.status : 'unknown',
      ...(known && c.changedAt !== undefined ? { changedAt: c.changedAt } : {}), checkedAt: iso(now),
    }
  }

  add(unit: RegisteredUnit): void {
    this.#units.set(unit.unitCode, unit)
  }

  unit(unitCode: string): RegisteredUnit {
    const u = this.#units.get(unitCode)
    if (u === undefined) throw new Error(`unit ${unitCode} is not on the register`)
    return u
  }

  /** The next certificate-of-registration number, e.g. 黑(2026)绥化市不动产证明第0001201号. */
  nextCertificate(kind: '不动产证明' | '不动产权'): string {
    this.#certificates++
    return `黑(2026)绥化市${kind}第${String(this.#certificates).padStart(7, '0')}号`
  }

  /** The mortgage.query.result body for a unit, as the register holds it (the gateway minimises it per bank). */
  answer(unitCode: string, now: Date): Record<string, unknown> {
    const u = this.unit(unitCode)
    return {
      asOf: iso(now), unitCode: u.unitCode, location: u.location,
      ownership: {
        certificateNumber: u.certificateNumber,
        owners: u.owners.map((o) => ({ name: o.name, idType: o.idType ?? '1', idNumber: o.idNumber, share: u.owners.length === 1 ? '1' : (1 / u.owners.length).toString() })),
        coOwnership: u.owners.length === 1 ? 'sole' : 'by-shares',
        registeredAt: u.registeredAt,
      },
      mortgages: u.mortgages.filter((m) => m.status === 'current').map((m) => ({
        mortgagee: m.mortgagee, mortgageType: m.mortgageType, ...(m.mortgageType === 'ordinary' ? { securedAmount: m.amount } : { maxAmount: m.amount }),
        term: m.term, rank: m.rank, certificateNumber: m.certificateNumber, registeredAt: m.registeredAt, status: m.status,
      })),
      seizures: u.seizures.map((s) => ({ court: s.court, documentNumber: s.documentNumber, kind: s.kind, from: s.from, ...(s.to !== undefined ? { to: s.to } : {}), registeredAt: s.registeredAt })),
      objections: [],
      preregistrations: u.preregistrations,
    }
  }
}

/** RFC 3339 in China Standard Time, as the agencies write times. */
export function iso(at: Date): string {
  return new Date(at.getTime() + 8 * 3_600_000).toISOString().replace(/\.\d{3}Z$/, '+08:00')
}
