// A small certification authority made with the openssl CLI (`openssl ca`), at test time: SM2
// (SM2-with-SM3 under the GB/T 32918 default ID, as certs-example/make.sh signs) or P-256
// (ecdsa-with-SHA256). It issues certificates with chosen validity and key usage, revokes them
// and writes CRLs — what a partner's CA does, so that the gateway is tested against real files.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PrivateKey } from '../../src/crypto/index.ts'

export const SM2_ID = '1234567812345678'

/** Runs openssl in `cwd`; throws with its stderr when it fails. */
export function openssl(args: string[], cwd: string): string {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8', timeout: 30_000 })
  if (r.error) throw r.error
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed (${r.status}): ${r.stderr}`)
  return r.stdout
}

/** openssl's time format: YYYYMMDDHHMMSSZ. */
export function asn1Time(d: Date): string {
  return `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`
}

const PROFILES = `
[sign]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
[enc]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyEncipherment, dataEncipherment
[sign-noaki]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
authorityKeyIdentifier = none
[agree]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyAgreement
[none]
basicConstraints = critical, CA:FALSE
[subca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
`

/** Extension sets; sign-noaki is a signing certificate without an authority key identifier. */
export type Profile = 'sign' | 'sign-noaki' | 'enc' | 'agree' | 'none' | 'subca'

export class TestCa {
  readonly dir: string
  readonly kind: 'sm2' | 'p256'
  readonly certFile: string
  readonly crlFile: string
  #n = 0

  private constructor(dir: string, kind: 'sm2' | 'p256') {
    this.dir = dir
    this.kind = kind
    this.certFile = join(dir, 'ca.crt.pem')
    this.crlFile = join(dir, 'ca.crl.pem')
  }

  /** A self-signed root named `cn` in `dir` (created), valid from a year ago for ten years. */
  static create(dir: string, kind: 'sm2' | 'p256', cn: string): TestCa {
    mkdirSync(join(dir, 'certs'), { recursive: true })
    const ca = new TestCa(dir, kind)
    writeFileSync(join(dir, 'index.txt'), '')
    writeFileSync(join(dir, 'serial'), '1000\n')
    writeFileSync(join(dir, 'crlnumber'), '01\n')
    writeFileSync(join(dir, 'ca.cnf'), `[ca]\ndefault_ca = tb\n[tb]\ndir = .\ndatabase = ./index.txt\nnew_certs_dir = ./certs\nserial = ./serial\ncrlnumber = ./crlnumber\ndefault_md = ${kind === 'sm2' ? 'sm3' : 'sha256'}\npolicy = any\nunique_subject = no\ndefault_crl_days = 30\n[any]\ncommonName = supplied\n${PROFILES}`)
    ca.#genkey('ca.key.pem')
    openssl(['req', '-new', '-x509', '-key', 'ca.key.pem', ...(kind === 'sm2' ? ['-sm3', '-sigopt', `distid:${SM2_ID}`] : ['-sha256']), '-days', '3650', '-subj', `/O=Tongban test/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.crt.pem'], dir)
    return ca
  }

  /**
   * A certificate for the key in `keyPem` (PKCS#8 PEM) under `profile`, valid from `start` to
   * `end` (default: from a day ago for a year). Returns the certificate PEM.
   */
  issue(keyPem: string, o: { cn: string; profile: Profile; start?: Date; end?: Date; sm2Id?: string }): string {
    const n = ++this.#n
    writeFileSync(join(this.dir, `leaf-${n}.key.pem`), keyPem, { mode: 0o600 })
    const sm2 = PrivateKey.fromPem('leaf', keyPem).kind === 'sm2'
    openssl(['req', '-new', '-key', `leaf-${n}.key.pem`, ...(sm2 ? ['-sm3', '-sigopt', `distid:${SM2_ID}`] : ['-sha256']), '-subj', `/CN=${o.cn}`, '-out', `leaf-${n}.csr`], this.dir)
    const start = o.start ?? new Date(Date.now() - 86_400_000)
    const end = o.end ?? new Date(Date.now() + 365 * 86_400_000)
    openssl(['ca', '-batch', '-notext', '-config', 'ca.cnf', '-cert', 'ca.crt.pem', '-keyfile', 'ca.key.pem', '-in', `leaf-${n}.csr`, '-out', `leaf-${n}.crt.pem`,
      '-extensions', o.profile, '-startdate', asn1Time(start), '-enddate', asn1Time(end), ...this.#sigArgs(o.sm2Id), ...(sm2 ? ['-vfyopt', `distid:${SM2_ID}`] : [])], this.dir)
    return readFileSync(join(this.dir, `leaf-${n}.crt.pem`), 'utf8')
  }

  /** Marks a certificate revoked in the CA's database (the next crl() lists it). */
  revoke(certPem: string): void {
    writeFileSync(join(this.dir, 'revoke.crt.pem'), certPem)
    openssl(['ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.crt.pem', '-keyfile', 'ca.key.pem', '-revoke', 'revoke.crt.pem', '-crl_reason', 'keyCompromise'], this.dir)
  }

  /** Writes the CA's CRL to crlFile (PEM, or DER with `der`); `lastUpdate`/`nextUpdate` may be set. Returns its path. */
  crl(o: { der?: boolean; lastUpdate?: Date; nextUpdate?: Date; file?: string } = {}): string {
    const file = o.file ?? this.crlFile
    openssl(['ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.crt.pem', '-keyfile', 'ca.key.pem', '-gencrl', '-out', 'crl.tmp.pem', ...this.#sigArgs(),
      ...(o.lastUpdate ? ['-crl_lastupdate', asn1Time(o.lastUpdate)] : []), ...(o.nextUpdate ? ['-crl_nextupdate', asn1Time(o.nextUpdate)] : [])], this.dir)
    openssl(['crl', '-in', 'crl.tmp.pem', '-outform', o.der ? 'DER' : 'PEM', '-out', file], this.dir)
    return file
  }

  #genkey(file: string): void {
    if (this.kind === 'sm2') openssl(['genpkey', '-algorithm', 'SM2', '-out', file], this.dir)
    else openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-pkeyopt', 'ec_param_enc:named_curve', '-out', file], this.dir)
  }

  /** How `openssl ca` signs: SM2 under `sm2Id` (default: the GB/T 32918 default ID). */
  #sigArgs(sm2Id = SM2_ID): string[] {
    return this.kind === 'sm2' ? ['-md', 'sm3', '-sigopt', `distid:${sm2Id}`] : ['-md', 'sha256']
  }
}
