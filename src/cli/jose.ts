/**
 * `tongban jws|jwe …`: sign, verify, encrypt and decrypt compact JOSE objects from the command
 * line, with the gateway's own crypto (both suites). Input on stdin, output on stdout; a
 * verification or decryption failure exits 1 with the reason on stderr.
 *   jws sign --key PRIV.pem --kid KID [--alg SM2SM3|PS256|RS256|ES256] [--typ TYP] < payload > jws
 *   jws verify --key PUB.pem < jws > payload
 *   jwe encrypt --key PUB.pem [--alg SM2|RSA-OAEP-256|ECDH-ES+A256KW] [--kid KID] [--cty CTY] < plaintext > jwe
 *   jwe decrypt --key PRIV.pem < jwe > plaintext
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { PrivateKey, PublicKey, decryptJwe, encryptJwe, parseJws, signJws, verifyJws } from '../crypto/index.ts'
import { UsageError } from './usage.ts'

async function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY) throw new UsageError('give the input on stdin (e.g. < file)')
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function readKey(file: string | undefined, what: string): string {
  if (file === undefined) throw new UsageError(`--key ${what} is required`)
  return readFileSync(file, 'utf8')
}

/** A public key from a public PEM, a certificate, or (for convenience) a private PEM. */
function publicKeyOf(kid: string, pem: string): PublicKey {
  return /PRIVATE KEY-----/.test(pem) ? PrivateKey.fromPem(kid, pem).publicKey : PublicKey.fromPem(kid, pem)
}

function fail(reason: string): number {
  process.stderr.write(`tongban: ${reason}\n`)
  return 1
}

function reasonOf(err: unknown): string {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' ? `${code}: ${(err as Error).message}` : (err as Error).message
}

/** Dispatches `tongban jws <sub>` and `tongban jwe <sub>`. */
export async function joseCommand(cmd: 'jws' | 'jwe', args: string[]): Promise<number> {
  const [sub, ...rest] = args
  const { values } = parseArgs({
    args: rest,
    options: { key: { type: 'string' }, kid: { type: 'string' }, alg: { type: 'string' }, typ: { type: 'string' }, cty: { type: 'string' } },
    strict: true,
  })
  if (cmd === 'jws' && sub === 'sign') {
    if (values.kid === undefined) throw new UsageError('jws sign: --kid KID is required')
    const key = PrivateKey.fromPem(values.kid, readKey(values.key, 'PRIV.pem'))
    const alg = values.alg ?? key.jwsAlg
    if (!key.publicKey.jwsAlgs.includes(alg as never)) throw new UsageError(`jws sign: a ${key.kind} key signs with ${key.publicKey.jwsAlgs.join(' or ')}, not ${alg}`)
    const header: Record<string, unknown> = { alg }
    if (values.typ !== undefined) header.typ = values.typ
    const jws = await signJws(await readStdin(), key, header)
    process.stdout.write(`${jws}\n`)
    return 0
  }
  if (cmd === 'jws' && sub === 'verify') {
    const pem = readKey(values.key, 'PUB.pem')
    const input = (await readStdin()).toString('utf8').trim()
    try {
      const parsed = parseJws(input)
      const key = publicKeyOf(parsed.header.kid ?? '', pem)
      if (!key.jwsAlgs.includes(parsed.header.alg as never)) return fail(`TB_ERR_SIGNATURE_INVALID: alg ${parsed.header.alg} cannot be verified with a ${key.kind} key`)
      if (!(await verifyJws(parsed, key))) return fail('TB_ERR_SIGNATURE_INVALID: the signature does not verify with this key')
      process.stdout.write(parsed.payload)
      return 0
    } catch (err) {
      return fail(reasonOf(err))
    }
  }
  if (cmd === 'jwe' && sub === 'encrypt') {
    const key = publicKeyOf(values.kid ?? '', readKey(values.key, 'PUB.pem'))
    if (values.alg !== undefined && values.alg !== key.jweAlg) throw new UsageError(`jwe encrypt: a ${key.kind} key takes ${key.jweAlg}, not ${values.alg}`)
    const header: Record<string, unknown> = {}
    if (values.cty !== undefined) header.cty = values.cty
    process.stdout.write(`${await encryptJwe(await readStdin(), key, header)}\n`)
    return 0
  }
  if (cmd === 'jwe' && sub === 'decrypt') {
    const pem = readKey(values.key, 'PRIV.pem')
    const input = (await readStdin()).toString('utf8').trim()
    try {
      const { plaintext } = await decryptJwe(input, PrivateKey.fromPem(values.kid ?? '', pem))
      process.stdout.write(plaintext)
      return 0
    } catch (err) {
      return fail(reasonOf(err))
    }
  }
  throw new UsageError(cmd === 'jws' ? 'jws: sign or verify?' : 'jwe: encrypt or decrypt?')
}
