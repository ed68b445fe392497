import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PrivateKey, type Suite } from '../crypto/index.ts'

/** A demo participant: who it is, which suite it speaks, what it sends and receives. */
export interface Role {
  readonly id: string
  readonly name: string
  readonly suite: Suite
  readonly send: readonly string[]
  readonly receive: readonly string[]
  /** Where a participant identified by its credit code works (a court: where it opens cases). */
  readonly divisions?: readonly string[]
  readonly adapter?: string
  readonly adapterOptions?: Record<string, unknown>
}

/** The demo's agencies (their sample keys are in certs-example/participants/). */
export const CAST = {
  reg: {
    id: 'REG:231202', name: '绥化市北林区不动产登记中心', suite: 'national',
    send: ['tax.assessment.request', 'registration.completed', 'mortgage.registration.completed', 'preregistration.completed', 'judicial.seizure.completed', 'judicial.seizure.rejected', 'judicial.release.completed', 'judicial.release.rejected', 'utility.transfer.notice', 'registration.application.forwarded', 'registration.application.examined', 'certificate.print.request', 'certificate.printed'],
    receive: ['tax.payment.completed', 'tax.assessment.rejected', 'housing.contract.filed', 'mortgage.query', 'mortgage.registration.request', 'judicial.seizure.request', 'judicial.release.request', 'certificate.verify', 'utility.transfer.completed', 'registration.application.forwarded', 'registration.application.examined', 'certificate.print.request', 'certificate.printed', 'enterprise.registration.request', 'enterprise.preregistration.request'],
  },
  tax: {
    id: 'TAX:231202', name: '国家税务总局绥化市北林区税务局', suite: 'national',
    send: ['tax.payment.completed', 'tax.assessment.rejected'],
    receive: ['tax.assessment.request', 'registration.completed', 'preregistration.completed'],
  },
  housing: {
    id: 'HOUSING:231200', name: '绥化市住房和城乡建设局', suite: 'national',
    send: ['housing.contract.filed'], receive: ['registration.completed'],
  },
  regWangkui: {
    id: 'REG:231221', name: '望奎县不动产登记中心', suite: 'international',
    send: ['tax.assessment.request', 'registration.application.forwarded', 'registration.application.examined', 'certificate.print.request', 'certificate.printed'], receive: ['tax.payment.completed', 'tax.assessment.rejected', 'mortgage.query', 'registration.application.forwarded', 'registration.application.examined', 'certificate.print.request', 'certificate.printed'],
  },
  bank: {
    id: 'BANK:91230100MA1B2C3D49:suihua', name: '示范银行绥化分行', suite: 'international',
    send: ['mortgage.query', 'mortgage.registration.request', 'certificate.verify'],
    receive: ['mortgage.registration.completed', 'preregistration.completed', 'registration.completed'],
  },
  fund: {
    id: 'FUND:12231200MB07654323', name: '绥化市住房公积金管理中心', suite: 'international',
    send: ['mortgage.query', 'mortgage.registration.request'],
    receive: ['mortgage.registration.completed', 'mortgage.registration.rejected', 'registration.completed'],
  },
  court: {
    id: 'COURT:11231202MB00123459', name: '绥化市北林区人民法院', suite: 'national', divisions: ['231202'],
    send: ['judicial.seizure.request', 'judicial.release.request'],
    receive: ['judicial.seizure.completed', 'judicial.seizure.rejected', 'judicial.release.completed', 'judicial.release.rejected'],
  },
  // A developer company filing a building's sales (批量办理).
  developer: {
    id: 'ENTERPRISE:91231202MA1K0D0W06', name: '绥化市北林区示范房地产开发有限公司', suite: 'national',
    send: ['enterprise.registration.request', 'enterprise.preregistration.request'], receive: [],
  },
  // The city's water and power companies (水电气热同步过户), each supplying the whole city.
  water: {
    id: 'UTILITY:91231200MA1W00001Q:water', name: '绥化市供水有限公司', suite: 'national', divisions: ['231200'],
    send: ['utility.transfer.completed'], receive: ['utility.transfer.notice'],
  },
  power: {
    id: 'UTILITY:91231200MA1P00002Y:power', name: '国网绥化供电公司', suite: 'international', divisions: ['231200'],
    send: ['utility.transfer.completed'], receive: ['utility.transfer.notice'],
  },
} as const satisfies Record<string, Role>

/** The legacy tax bureau: behind the legacy-tax adapter, no JOSE keys, an HMAC secret shared with the gateway. */
export const LEGACY_TAX = {
  id: 'TAX:231221', name: '国家税务总局望奎县税务局',
  send: ['tax.payment.completed', 'tax.assessment.rejected'], receive: ['tax.assessment.request'],
} as const

/** Reads a sample key of a demo participant from certs-example/participants/<id>/. */
export function sampleKey(certsDir: string, participant: string, file: string): PrivateKey {
  const name = file.replace(/\.key\.pem$/, '')
  return PrivateKey.fromPem(`${participant}#${name}`, readFileSync(join(certsDir, 'participants', participant.replace(/:/g, '_'), file), 'utf8'))
}

/** The signing and encryption keys of a demo participant in its suite. */
export function keysOf(certsDir: string, role: Role): { signingKey: PrivateKey; encryptionKey: PrivateKey } {
  return role.suite === 'national'
    ? { signingKey: sampleKey(certsDir, role.id, 'sign-sm2.key.pem'), encryptionKey: sampleKey(certsDir, role.id, 'enc-sm2.key.pem') }
    : { signingKey: sampleKey(certsDir, role.id, 'sign-es256.key.pem'), encryptionKey: sampleKey(certsDir, role.id, 'enc-rsa.key.pem') }
}
