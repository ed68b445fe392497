import { createHash } from 'node:crypto'
import { publicKeyDer, publicKeyFromDer, signDetached, verifyDetached, type PrivateKey, type PublicKey } from '../crypto/index.ts'

/**
 * Checkpoints as C2SP signed notes (c2sp.org/signed-note, c2sp.org/tlog-checkpoint):
 *
 *   <origin>\n<tree size>\n<base64 root hash>\ntimestamp <ISO 8601 UTC>\n
 *   \n
 *   — <origin> <base64(key ID ‖ signature)>\n      (one line per signing key)
 *
 * Two signature types: ECDSA P-256 (type 0x02, as transparency-dev's witness: SHA-256, DER; its
 * key ID is the first four bytes of SHA-256 of the SubjectPublicKeyInfo) and SM2 with SM3
 * (type 0xff followed by "tongban.sm2sm3", DER; key ID = SHA-256(name ‖ 0x0A ‖ type ‖ SPKI)[:4]).
 */

export const SIG_ECDSA = Buffer.from([0x02])
export const SIG_SM2 = Buffer.concat([Buffer.from([0xff]), Buffer.from('tongban.sm2sm3', 'ascii')])

/** A key that signs or verifies notes under a name. */
export interface NoteVerifier {
  readonly name: string
  readonly keyId: Buffer
  readonly type: 'ecdsa' | 'sm2'
  readonly key: PublicKey
}

function typeOf(key: PublicKey): 'ecdsa' | 'sm2' {
  if (key.kind === 'sm2') return 'sm2'
  if (key.kind === 'ec-p256') return 'ecdsa'
  throw new Error(`key ${key.kid}: notes are signed with SM2 or ECDSA P-256 only`)
}

function keyIdOf(name: string, type: 'ecdsa' | 'sm2', spki: Buffer): Buffer {
  const h = type === 'ecdsa'
    ? createHash('sha256').update(spki)
    : createHash('sha256').update(Buffer.from(`${name}\n`, 'utf8')).update(SIG_SM2).update(spki)
  return h.digest().subarray(0, 4)
}

/** The verifier of notes `name` signs with `key`. */
export function noteVerifier(name: string, key: PublicKey): NoteVerifier {
  const type = typeOf(key)
  return { name, type, key, keyId: keyIdOf(name, type, publicKeyDer(key)) }
}

/** The verifier key string: `<name>+<hex key ID>+<base64(type ‖ SPKI DER)>`. */
export function vkeyOf(v: NoteVerifier): string {
  const type = v.type === 'ecdsa' ? SIG_ECDSA : SIG_SM2
  return `${v.name}+${v.keyId.toString('hex')}+${Buffer.concat([type, publicKeyDer(v.key)]).toString('base64')}`
}

/** Reads a verifier key string; throws on anything malformed or whose key ID does not match. */
export function parseVkey(vkey: string): NoteVerifier {
  // The key's base64 may hold '+' itself: the name and key ID end at the first two.
  const text = vkey.trim()
  const a = text.indexOf('+')
  const b = a < 0 ? -1 : text.indexOf('+', a + 1)
  if (b < 0) throw new Error('a verifier key is name+keyid+key')
  const [name, hex, b64] = [text.slice(0, a), text.slice(a + 1, b), text.slice(b + 1)]
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Error('the verifier key is not base64')
  if (name === '' || /\s/u.test(name) || !/^[0-9a-f]{8}$/.test(hex)) throw new Error('bad verifier key name or key ID')
  const raw = Buffer.from(b64, 'base64')
  let type: 'ecdsa' | 'sm2'
  let spki: Buffer
  if (raw[0] === 0x02) {
    type = 'ecdsa'
    spki = raw.subarray(1)
  } else if (raw.subarray(0, SIG_SM2.length).equals(SIG_SM2)) {
    type = 'sm2'
    spki = raw.subarray(SIG_SM2.length)
  } else {
    throw new Error('unknown verifier key type')
  }
  const key = publicKeyFromDer(name, spki)
  if (typeOf(key) !== type) throw new Error('the verifier key type does not match its key')
  const v = noteVerifier(name, key)
  if (v.keyId.toString('hex') !== hex) throw new Error('the verifier key ID does not match its key')
  return v
}

/** Signs `text` (ending in a newline) as a note with each key. */
export async function signNote(text: string, name: string, keys: readonly PrivateKey[]): Promise<string> {
  if (!text.endsWith('\n')) throw new Error('a note text ends in a newline')
  const bytes = Buffer.from(text, 'utf8')
  const lines: string[] = []
  for (const k of keys) {
    const v = noteVerifier(name, k.publicKey)
    const sig = await signDetached(k, bytes)
    lines.push(`— ${name} ${Buffer.concat([v.keyId, sig]).toString('base64')}\n`)
  }
  return `${text}\n${lines.join('')}`
}

export interface NoteSignature {
  readonly name: string
  readonly keyId: Buffer
  readonly signature: Buffer
}

/** Splits a note into its text and signature lines; throws when it is not a signed note. */
export function parseNote(note: string): { text: string; signatures: NoteSignature[] } {
  // Only newlines among the control characters (signed-note §Format).
  if (/[\u0000-\u0009\u000b-\u001f]/.test(note)) throw new Error('a note holds no control characters other than newline')
  const split = note.lastIndexOf('\n\n')
  if (split < 0 || !note.endsWith('\n')) throw new Error('no signature block')
  const text = note.slice(0, split + 1)
  const signatures: NoteSignature[] = []
  for (const line of note.slice(split + 2, -1).split('\n')) {
    const m = /^— (\S+) ([A-Za-z0-9+/]+={0,2})$/u.exec(line)
    if (m === null) throw new Error('a malformed signature line')
    const raw = Buffer.from(m[2] as string, 'base64')
    if (raw.length < 5) throw new Error('a signature too short')
    signatures.push({ name: m[1] as string, keyId: raw.subarray(0, 4), signature: raw.subarray(4) })
  }
  if (signatures.length === 0) throw new Error('no signature')
  return { text, signatures }
}

/**
 * Verifies a note: every signature by a known key (name and key ID) must verify, and at least
 * one must exist. Returns the text and the verifiers whose signatures held; throws otherwise.
 */
export async function verifyNote(note: string, known: readonly NoteVerifier[]): Promise<{ text: string; verifiedBy: NoteVerifier[] }> {
  const { text, signatures } = parseNote(note)
  const verifiedBy: NoteVerifier[] = []
  for (const s of signatures) {
    const v = known.find((k) => k.name === s.name && k.keyId.equals(s.keyId))
    if (v === undefined) continue
    if (!(await verifyDetached(v.key, Buffer.from(text, 'utf8'), s.signature))) throw new Error(`the signature of key ${s.name}+${s.keyId.toString('hex')} does not verify`)
    verifiedBy.push(v)
  }
  if (verifiedBy.length === 0) throw new Error('no signature by a trusted key')
  return { text, verifiedBy }
}

export interface CheckpointBody {
  readonly origin: string
  readonly treeSize: number
  readonly rootHash: Buffer
  /** The extension line `timestamp …`: when the gateway signed it. */
  readonly timestamp: string
}

/** The checkpoint's note text. */
export function checkpointText(c: CheckpointBody): string {
  return `${c.origin}\n${c.treeSize}\n${c.rootHash.toString('base64')}\ntimestamp ${c.timestamp}\n`
}

/** Reads a checkpoint's note text (tlog-checkpoint, with Tongban's timestamp line). */
export function parseCheckpointText(text: string): CheckpointBody {
  const lines = text.split('\n')
  if (lines.at(-1) !== '' || lines.length < 5) throw new Error('a checkpoint has origin, size, root and timestamp lines')
  const [origin, size, root, stamp] = lines as [string, string, string, string]
  if (origin === '') throw new Error('empty origin')
  if (!/^(0|[1-9]\d{0,15})$/.test(size)) throw new Error('the tree size is not a decimal without leading zeroes')
  const rootHash = Buffer.from(root, 'base64')
  if (rootHash.length !== 32 || rootHash.toString('base64') !== root) throw new Error('the root hash is not 32 bytes of base64')
  const m = /^timestamp (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)$/.exec(stamp)
  if (m === null) throw new Error('no timestamp line')
  return { origin, treeSize: Number(size), rootHash, timestamp: m[1] as string }
}

/** A C2SP tlog-proof: the leaf's index, its inclusion proof and the checkpoint it leads to. */
export function tlogProof(index: number, proof: readonly Buffer[], checkpointNote: string): string {
  return `c2sp.org/tlog-proof@v1\nindex ${index}\n${proof.map((p) => `${p.toString('base64')}\n`).join('')}\n${checkpointNote}`
}

/** Reads a tlog-proof (the extra line is allowed and ignored). */
export function parseTlogProof(text: string): { index: number; proof: Buffer[]; checkpoint: string } {
  const lines = text.split('\n')
  if (lines[0] !== 'c2sp.org/tlog-proof@v1') throw new Error('not a c2sp.org/tlog-proof@v1')
  let i = 1
  if (lines[i]?.startsWith('extra ')) i++
  const m = /^index (0|[1-9]\d{0,15})$/.exec(lines[i] ?? '')
  if (m === null) throw new Error('no index line')
  i++
  const proof: Buffer[] = []
  while (i < lines.length && lines[i] !== '') {
    const h = Buffer.from(lines[i] as string, 'base64')
    if (h.length !== 32) throw new Error('a proof hash is not 32 bytes')
    proof.push(h)
    i++
  }
  if (i >= lines.length) throw new Error('no checkpoint')
  return { index: Number(m[1]), proof, checkpoint: lines.slice(i + 1).join('\n') }
}
