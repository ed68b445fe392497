// SM2 key files: what Tongban writes reads back (and OpenSSL reads it: see interop-openssl),
// the variants other tools write are recognised, and invalid keys are refused with ERR_SM_KEY.
import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { inspect } from 'node:util'
import { SM2_N, Sm2PrivateKey, Sm2PublicKey, isSm2Pem } from '../../src/crypto/sm/index.ts'
import { TAG, encode, encodeOid } from '../../src/crypto/sm/asn1.ts'
import { toBytes } from '../../src/crypto/sm/curve.ts'
import { hex, vectors } from './helpers/vectors.ts'

const SM2 = '1.2.156.10197.1.301'
const EC = '1.2.840.10045.2.1'
const pem = (label: string, der: Buffer): string => `-----BEGIN ${label}-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END ${label}-----\n`
const bits = (b: Buffer): Buffer => encode(TAG.BIT_STRING, Buffer.from([0]), b)
const spki = (point: Buffer, alg = encode(TAG.SEQUENCE, encodeOid(EC), encodeOid(SM2))): string => pem('PUBLIC KEY', encode(TAG.SEQUENCE, alg, bits(point)))
const sec1 = (d: Buffer, point?: Buffer, curve = SM2): Buffer =>
  encode(TAG.SEQUENCE, encode(TAG.INTEGER, Buffer.from([1])), encode(TAG.OCTET_STRING, d), encode(0xa0, encodeOid(curve)), ...(point ? [encode(0xa1, bits(point))] : []))
const pkcs8 = (d: Buffer, point?: Buffer, alg = encode(TAG.SEQUENCE, encodeOid(EC), encodeOid(SM2))): string =>
  pem('PRIVATE KEY', encode(TAG.SEQUENCE, encode(TAG.INTEGER, Buffer.from([0])), alg, encode(TAG.OCTET_STRING, sec1(d, point).subarray(0))))

const s = vectors.sm2_sign
const vd = hex(s.d)
const vpoint = Buffer.concat([Buffer.from([4]), hex(s.px), hex(s.py)])
const KEY = { code: 'ERR_SM_KEY' }

t.test('a generated key round-trips through PKCS#8 and SPKI PEM', async (t) => {
  const key = Sm2PrivateKey.generate()
  const again = Sm2PrivateKey.fromPem(key.toPem())
  t.ok(again.publicKey.equals(key.publicKey), 'same key after PKCS#8')
  t.match(key.toPem(), /^-{5}BEGIN PRIVATE KEY-{5}\n/)
  const pub = Sm2PublicKey.fromPem(key.publicKey.toPem())
  t.ok(pub.equals(key.publicKey), 'same key after SPKI')
  t.match(key.publicKey.toPem(), /^-----BEGIN PUBLIC KEY-----\n/)
  const msg = Buffer.from('round trip')
  t.equal(pub.verify(msg, again.sign(msg)), true, 'the reloaded pair still signs and verifies')
  t.equal(key.publicKey.point.length, 65)
  t.equal(key.publicKey.point[0], 4)
})

t.test('the published key: d gives the published public point', async (t) => {
  const key = Sm2PrivateKey.fromScalar(vd)
  t.same(key.publicKey.point, vpoint)
  t.ok(Sm2PrivateKey.fromPem(pkcs8(vd, vpoint)).publicKey.equals(key.publicKey), 'PKCS#8 with the public key')
  t.ok(Sm2PrivateKey.fromPem(pkcs8(vd)).publicKey.equals(key.publicKey), 'PKCS#8 without the public key')
  t.ok(Sm2PrivateKey.fromPem(pem('EC PRIVATE KEY', sec1(vd, vpoint))).publicKey.equals(key.publicKey), 'SEC1')
  const withParams = `-----BEGIN SM2 PARAMETERS-----\nBggqgRzPVQGCLQ==\n-----END SM2 PARAMETERS-----\n${pem('EC PRIVATE KEY', sec1(vd))}`
  t.ok(Sm2PrivateKey.fromPem(withParams).publicKey.equals(key.publicKey), 'SEC1 after a parameters block (openssl ecparam -genkey)')
})

t.test('isSm2Pem recognises SM2 keys in every layout, and nothing else', async (t) => {
  const key = Sm2PrivateKey.fromScalar(vd)
  t.equal(isSm2Pem(key.toPem()), true, 'PKCS#8 id-ecPublicKey + sm2')
  t.equal(isSm2Pem(key.publicKey.toPem()), true, 'SPKI id-ecPublicKey + sm2')
  t.equal(isSm2Pem(pem('EC PRIVATE KEY', sec1(vd))), true, 'SEC1 with the sm2 curve')
  const bare = encode(TAG.SEQUENCE, encodeOid(SM2))
  t.equal(isSm2Pem(spki(vpoint, bare)), true, 'SPKI with the bare SM2 algorithm OID')
  t.equal(isSm2Pem(pkcs8(vd, undefined, encode(TAG.SEQUENCE, encodeOid(SM2), encodeOid(SM2)))), true, 'PKCS#8 with the bare SM2 algorithm OID')
  t.ok(Sm2PublicKey.fromPem(spki(vpoint, bare)).equals(key.publicKey), 'the bare-OID SPKI loads')
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  t.equal(isSm2Pem(p256.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), false, 'P-256 PKCS#8')
  t.equal(isSm2Pem(p256.publicKey.export({ type: 'spki', format: 'pem' }).toString()), false, 'P-256 SPKI')
  t.equal(isSm2Pem(p256.privateKey.export({ type: 'sec1', format: 'pem' }).toString()), false, 'P-256 SEC1')
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
  t.equal(isSm2Pem(rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString()), false, 'RSA SPKI')
  t.equal(isSm2Pem(''), false, 'empty')
  t.equal(isSm2Pem('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----'), false, 'garbage DER')
  t.equal(isSm2Pem(spki(vpoint, encode(TAG.SEQUENCE, encodeOid(EC), encodeOid('1.2.840.10045.3.1.7')))), false, 'id-ecPublicKey on P-256')
})

t.test('public keys off the curve, at infinity or malformed are refused', async (t) => {
  const offCurve = Buffer.from(vpoint)
  offCurve[64] = (offCurve[64] as number) ^ 1
  t.throws(() => Sm2PublicKey.fromPem(spki(offCurve)), KEY, 'y changed')
  t.throws(() => Sm2PublicKey.fromPem(spki(Buffer.concat([Buffer.from([4]), Buffer.alloc(64)]))), KEY, '(0, 0)')
  t.throws(() => Sm2PublicKey.fromPem(spki(Buffer.from([0]))), KEY, 'the infinity encoding 00')
  t.throws(() => Sm2PublicKey.fromPem(spki(vpoint.subarray(0, 64))), KEY, '64 bytes')
  const bigX = Buffer.concat([Buffer.from([4]), toBytes(2n ** 256n - 1n), hex(s.py)])
  t.throws(() => Sm2PublicKey.fromPem(spki(bigX)), KEY, 'x ≥ p')
  t.throws(() => Sm2PublicKey.fromPem(Sm2PrivateKey.fromScalar(vd).toPem()), KEY, 'a private key where a public key is expected')
  t.throws(() => Sm2PublicKey.fromPem('not a pem'), KEY, 'not PEM')
  const compressed = Buffer.concat([Buffer.from([2 + ((vpoint[64] as number) & 1)]), hex(s.px)])
  t.same(Sm2PublicKey.fromPem(spki(compressed)).point, vpoint, 'a compressed point is accepted and decompressed')
  const wrongSign = Buffer.from(compressed)
  wrongSign[0] = (wrongSign[0] as number) ^ 1
  t.notSame(Sm2PublicKey.fromPoint(wrongSign).point, vpoint, 'the other y for the other prefix')
})

t.test('private keys outside [1, n-2] or with a mismatched public key are refused', async (t) => {
  t.throws(() => Sm2PrivateKey.fromPem(pkcs8(Buffer.alloc(32))), KEY, 'd = 0')
  t.throws(() => Sm2PrivateKey.fromPem(pkcs8(toBytes(SM2_N - 1n))), KEY, 'd = n - 1')
  t.throws(() => Sm2PrivateKey.fromPem(pkcs8(toBytes(SM2_N))), KEY, 'd = n')
  t.throws(() => Sm2PrivateKey.fromPem(pkcs8(Buffer.alloc(34, 1))), KEY, 'd of 34 bytes')
  t.ok(Sm2PrivateKey.fromPem(pkcs8(toBytes(SM2_N - 2n))), 'd = n - 2 is allowed')
  t.ok(Sm2PrivateKey.fromPem(pkcs8(Buffer.from([1]))), 'd = 1 (short encoding) is allowed')
  const other = Sm2PrivateKey.generate().publicKey.point
  t.throws(() => Sm2PrivateKey.fromPem(pkcs8(vd, other)), KEY, 'public key of another d')
  t.throws(() => Sm2PrivateKey.fromPem(pem('EC PRIVATE KEY', sec1(vd, undefined, '1.2.840.10045.3.1.7'))), KEY, 'SEC1 on P-256')
  t.throws(() => Sm2PrivateKey.fromPem(pem('ENCRYPTED PRIVATE KEY', Buffer.from([0, 0, 0]))), KEY, 'encrypted PKCS#8')
  t.throws(() => Sm2PrivateKey.fromScalar(0n), KEY, 'fromScalar(0)')
})

t.test('a private key never shows itself in JSON, strings or inspection', async (t) => {
  const key = Sm2PrivateKey.fromScalar(vd)
  const dHex = s.d.toLowerCase()
  const dB64 = vd.toString('base64')
  for (const text of [JSON.stringify({ key }), String(key), inspect(key, { showHidden: true, depth: 5 })]) {
    t.notOk(text.toLowerCase().includes(dHex), 'no hex d')
    t.notOk(text.includes(dB64), 'no base64 d')
  }
  t.equal(JSON.stringify(key), '"[Sm2PrivateKey]"')
})
