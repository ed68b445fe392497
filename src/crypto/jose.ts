import { CompactEncrypt, CompactSign, compactDecrypt, compactVerify, errors as joseErrors } from 'jose'
import { TongbanError } from '../errors.ts'
import { isCanonicalBase64url as isB64url } from '../util/base64url.ts'
import { decodeUtf8Strict, parseStrictJson } from '../util/json.ts'
import { MATERIAL, suiteOfAlg, type JwsAlg, type PrivateKey, type PublicKey, type Suite } from './keys.ts'
import { decryptSm2Jwe, encryptSm2Jwe, signSm2Jws, verifySm2Signature } from './national/index.ts'

/** Content type of a JWS inside a JWE (sign, then encrypt). */
export const CTY_JWS = 'tongban+jws'

export interface JoseHeader {
  readonly alg: string
  readonly kid?: string
  readonly typ?: string
  readonly cty?: string
  readonly enc?: string
  readonly [k: string]: unknown
}

/** A compact JWS split into its parts; the signing input is the exact bytes that were signed. */
export interface ParsedJws {
  readonly header: JoseHeader
  readonly payload: Buffer
  readonly signingInput: Buffer
  readonly signature: Buffer
  readonly compact: string
}

function malformed(message: string, cause?: unknown): TongbanError {
  return new TongbanError('TB_ERR_JOSE_MALFORMED', message, cause === undefined ? {} : { cause })
}

function decodeHeader(part: string): JoseHeader {
  if (part === '' || !isB64url(part)) throw malformed('protected header is not base64url')
  // Read strictly: a duplicate member ("alg" twice) would let two JOSE libraries see two headers.
  const text = decodeUtf8Strict(Buffer.from(part, 'base64url'))
  if (text === undefined) throw malformed('protected header is not UTF-8')
  const parsed = parseStrictJson(text)
  if (!parsed.ok) throw malformed(parsed.syntax ? 'protected header is not JSON' : `protected header: ${parsed.fault.message} (at ${parsed.fault.pointer || '/'})`)
  const header = parsed.value
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw malformed('protected header is not a JSON object')
  const h = header as Record<string, unknown>
  if (typeof h.alg !== 'string') throw malformed('protected header has no alg')
  if (h.kid !== undefined && typeof h.kid !== 'string') throw malformed('kid must be a string')
  // Unencoded payloads and critical extensions are not part of the profile: refuse rather than half-support.
  if (h.crit !== undefined || h.b64 !== undefined || h.zip !== undefined) throw malformed('crit, b64 and zip are not supported')
  return h as JoseHeader
}

/** Splits a compact JWS without verifying it. */
export function parseJws(compact: string): ParsedJws {
  const parts = compact.trim().split('.')
  if (parts.length !== 3) throw malformed(`a compact JWS has 3 parts, got ${parts.length}`)
  const [h, p, s] = parts as [string, string, string]
  if (!isB64url(p) || !isB64url(s) || s === '') throw malformed('JWS parts are not base64url')
  const header = decodeHeader(h)
  return {
    header,
    payload: Buffer.from(p, 'base64url'),
    signingInput: Buffer.from(`${h}.${p}`, 'ascii'),
    signature: Buffer.from(s, 'base64url'),
    compact: `${h}.${p}.${s}`,
  }
}

/** Reads the protected header of a compact JWE without decrypting it. */
export function parseJweHeader(compact: string): JoseHeader {
  const parts = compact.trim().split('.')
  if (parts.length !== 5) throw malformed(`a compact JWE has 5 parts, got ${parts.length}`)
  for (const part of parts) if (!isB64url(part)) throw malformed('JWE parts are not base64url')
  const header = decodeHeader(parts[0] as string)
  if (typeof header.enc !== 'string') throw malformed('JWE protected header has no enc')
  return header
}

/** The suite of a JOSE object's algorithm, or a TB_ERR_ALG_UNSUPPORTED error. */
export function suiteOf(header: JoseHeader): Suite {
  const suite = suiteOfAlg(header.alg)
  if (!suite) throw new TongbanError('TB_ERR_ALG_UNSUPPORTED', `algorithm ${header.alg} is not supported`)
  return suite
}

/** Verifies a parsed JWS with `key`; false when the signature does not match. */
export async function verifyJws(jws: ParsedJws, key: PublicKey): Promise<boolean> {
  const alg = jws.header.alg as JwsAlg
  if (!key.jwsAlgs.includes(alg)) return false
  const m = key[MATERIAL]()
  // SM2 (national suite): the scalar work runs on the threadpool (native backend), off the event loop.
  if (m.kind === 'sm2') return verifySm2Signature(jws.signingInput, jws.signature, m.sm2)
  try {
    await compactVerify(jws.compact, m.node, { algorithms: [alg] })
    return true
  } catch (err) {
    if (err instanceof joseErrors.JOSEError) return false
    throw err
  }
}

/**
 * Signs `payload` as a compact JWS with `key`; `header` adds to alg and kid. `header.alg` may
 * choose another algorithm the key supports (RS256 rather than PS256 on an RSA key).
 */
export async function signJws(payload: Uint8Array, key: PrivateKey, header: Record<string, unknown> = {}): Promise<string> {
  const alg = header.alg === undefined ? key.jwsAlg : (header.alg as JwsAlg)
  if (!key.publicKey.jwsAlgs.includes(alg)) throw new TongbanError('TB_ERR_ALG_UNSUPPORTED', `key ${key.kid} does not sign with ${String(header.alg)}`)
  const protectedHeader = { ...header, alg, kid: key.kid }
  const m = key[MATERIAL]()
  if (m.kind === 'sm2') return signSm2Jws(protectedHeader, payload, m.sm2)
  return new CompactSign(payload).setProtectedHeader(protectedHeader).sign(m.node)
}

/** Encrypts `plaintext` as a compact JWE to `recipient` in the recipient key's suite. */
export async function encryptJwe(plaintext: Uint8Array, recipient: PublicKey, header: Record<string, unknown> = {}): Promise<string> {
  const m = recipient[MATERIAL]()
  // A key known only as a file has no kid: leave it out rather than send an empty one.
  const kid = recipient.kid === '' ? {} : { kid: recipient.kid }
  if (m.kind === 'sm2') {
    return encryptSm2Jwe(plaintext, { ...header, alg: 'SM2', enc: 'SM4-CBC-HMAC-SM3', ...kid }, m.sm2)
  }
  return new CompactEncrypt(plaintext)
    .setProtectedHeader({ ...header, alg: recipient.jweAlg, enc: 'A256GCM', ...kid })
    .encrypt(m.node)
}

/**
 * Decrypts a compact JWE with the first of `keys` that opens it: during a key rotation a sender
 * may still encrypt to the previous key under the same kid, so the current key comes first, then
 * the previous one (a wrong key fails its integrity check). No key: TB_ERR_KEY_UNKNOWN (`unknown`
 * says to what); none opens it: TB_ERR_DECRYPT.
 */
export async function decryptJweWithAny(compact: string, keys: readonly PrivateKey[], unknown: string): Promise<{ plaintext: Buffer; header: JoseHeader }> {
  if (keys.length === 0) throw new TongbanError('TB_ERR_KEY_UNKNOWN', unknown)
  let failure: unknown
  for (const key of keys) {
    try {
      return await decryptJwe(compact, key)
    } catch (err) {
      if (!(err instanceof TongbanError && err.code === 'TB_ERR_DECRYPT')) throw err
      failure = err
    }
  }
  throw failure
}

/** Decrypts a compact JWE with `key`. Any failure is TB_ERR_DECRYPT, whatever its cause (no oracle). */
export async function decryptJwe(compact: string, key: PrivateKey): Promise<{ plaintext: Buffer; header: JoseHeader }> {
  const header = parseJweHeader(compact)
  const m = key[MATERIAL]()
  if (header.alg !== key.publicKey.jweAlg) throw new TongbanError('TB_ERR_ALG_UNSUPPORTED', `key ${key.kid} does not take ${header.alg}`)
  try {
    if (m.kind === 'sm2') {
      if (header.enc !== 'SM4-CBC-HMAC-SM3') throw new TongbanError('TB_ERR_ALG_UNSUPPORTED', `enc ${header.enc} is not supported with SM2`)
      const { plaintext } = await decryptSm2Jwe(compact.trim(), m.sm2)
      return { plaintext, header }
    }
    if (header.enc !== 'A256GCM') throw new TongbanError('TB_ERR_ALG_UNSUPPORTED', `enc ${header.enc} is not supported`)
    const { plaintext } = await compactDecrypt(compact.trim(), m.node, {
      keyManagementAlgorithms: [header.alg],
      contentEncryptionAlgorithms: ['A256GCM'],
    })
    return { plaintext: Buffer.from(plaintext), header }
  } catch (err) {
    if (err instanceof TongbanError && err.code === 'TB_ERR_ALG_UNSUPPORTED') throw err
    throw new TongbanError('TB_ERR_DECRYPT', 'the message could not be decrypted', { cause: err })
  }
}
