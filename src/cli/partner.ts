import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { certificateRequest, PrivateKey, PublicKey, type KeyKind, type Suite } from '../crypto/index.ts'
import { checkParticipantId, CREDIT_CODE_ROLES } from '../core/formats.ts'
import { allRules } from '../core/message-types.ts'
import { ROLES, type Role } from '../core/roles.ts'
import { UsageError } from './usage.ts'

const OPTIONS = {
  role: { type: 'string' }, code: { type: 'string' }, subsystem: { type: 'string' }, name: { type: 'string' },
  suite: { type: 'string' }, division: { type: 'string', multiple: true }, endpoint: { type: 'string' },
  'gateway-key': { type: 'string', multiple: true }, 'gateway-id': { type: 'string' }, gateway: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' },
} as const

/**
 * The SDK the sample client imports: its TypeScript sources (beside this file, or in the checkout
 * when this runs compiled from dist/), else the compiled SDK (an image holds dist/ only).
 */
const CLIENT_SDK = ['../client/index.ts', '../../../src/client/index.ts', '../client/index.js']
  .map((p) => fileURLToPath(new URL(p, import.meta.url))).find((f) => existsSync(f)) ?? fileURLToPath(new URL('../client/index.js', import.meta.url))

/**
 * `tongban partner init`: everything a new partner needs to connect, in one folder —
 *   keys/sign.key.pem, keys/enc.key.pem   its key pairs (private: mode 0600, never sent anywhere),
 *   csr/sign.csr.pem, csr/enc.csr.pem     certificate signing requests for the CA of the real PKI,
 *   directory-entry.json                  the entry to send to the gateway's operators,
 *   client.json, sample-client.mts         a runnable sample client (TypeScript, the SDK).
 * What the role may send and receive comes from the message-type rules (docs/message-types.md).
 */
export async function partnerCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub !== 'init') throw new UsageError(`unknown partner command "${sub ?? ''}" (init)`)
  const { values } = parseArgs({ args: rest, options: OPTIONS, strict: true })
  const role = values.role as Role | undefined
  if (role === undefined || !(ROLES as readonly string[]).includes(role)) throw new UsageError(`partner init needs --role ${ROLES.join('|')}`)
  if (values.code === undefined) throw new UsageError('partner init needs --code (a bank\'s unified social credit code, a government agency\'s division)')
  if (values.out === undefined) throw new UsageError('partner init needs --out DIR')
  const suite = (values.suite ?? 'national') as Suite
  if (suite !== 'national' && suite !== 'international') throw new UsageError('--suite is national or international')
  const id = [role, values.code, ...(values.subsystem !== undefined ? [values.subsystem] : [])].join(':')
  const fault = checkParticipantId(id)
  if (fault !== null) throw new UsageError(`${id} is not a participant id: ${fault}`)
  const out = resolve(values.out)
  if (existsSync(out) && readdirSync(out).length > 0 && !values.force) throw new UsageError(`${out} is not empty (--force writes over it)`)
  for (const d of ['keys', 'csr', 'gateway-keys']) mkdirSync(join(out, d), { recursive: true })

  const name = values.name ?? id
  const sigKind: KeyKind = suite === 'national' ? 'sm2' : 'ec-p256'
  const encKind: KeyKind = suite === 'national' ? 'sm2' : 'rsa'
  const keys: Record<'sign' | 'enc', { kid: string; privateKey: PrivateKey; publicKey: PublicKey }> = {} as never
  for (const [use, kind] of [['sign', sigKind], ['enc', encKind]] as const) {
    const kid = `${id}#${use}-1`
    const { privateKey, privatePem } = PrivateKey.generate(kid, kind, { rsaBits: 3072 })
    const file = join(out, 'keys', `${use}.key.pem`)
    writeFileSync(file, privatePem, { mode: 0o600 })
    chmodSync(file, 0o600)
    const publicKey = privateKey.publicKey
    writeFileSync(join(out, 'keys', `${use}.pub.pem`), publicKey.toPem())
    writeFileSync(join(out, 'csr', `${use}.csr.pem`), await certificateRequest(privateKey, publicKey, { cn: id, o: name }))
    keys[use] = { kid, privateKey, publicKey }
  }

  const send = allRules().filter((r) => r.from.includes(role)).map((r) => r.type)
  const receive = allRules().filter((r) => r.to.includes(role)).map((r) => r.type)
  const divisions = values.division ?? (CREDIT_CODE_ROLES.has(role) ? [] : [values.code])
  const endpoint = values.endpoint ?? 'https://partner.example/tongban/inbox'
  const entry = {
    id, name, ...(divisions.length > 0 ? { divisions } : {}),
    signingKeys: [{ kid: keys.sign.kid, publicKey: keys.sign.publicKey.toPem() }],
    encryptionKey: { kid: keys.enc.kid, publicKey: keys.enc.publicKey.toPem() },
    endpoint, adapter: 'native', send, receive,
  }
  writeFileSync(join(out, 'directory-entry.json'), `${JSON.stringify(entry, null, 2)}\n`)

  // The gateway's signing keys, pinned out of band (the operators send them with the directory entry's confirmation).
  // Named as the gateway names them (sign-sm2.pub.pem → kid TONGBAN#sign-sm2): receipts carry that kid.
  const gatewayKeys = (values['gateway-key'] ?? []).map((f) => {
    const keyName = basename(f).replace(/\.(pub|crt)\.pem$/, '')
    const target = join(out, 'gateway-keys', `${keyName}.pub.pem`)
    writeFileSync(target, PublicKey.fromPem(keyName, readFileSync(f, 'utf8')).toPem())
    return { kid: `${values['gateway-id'] ?? 'TONGBAN'}#${keyName}`, file: relative(out, target) }
  })
  writeFileSync(join(out, 'client.json'), `${JSON.stringify({
    gatewayUrl: values.gateway ?? 'http://127.0.0.1:8443', participantId: id,
    signingKey: { kid: keys.sign.kid, file: 'keys/sign.key.pem' }, encryptionKey: { kid: keys.enc.kid, file: 'keys/enc.key.pem' },
    gatewayKeys: gatewayKeys.length > 0 ? gatewayKeys : [{ kid: 'TONGBAN#sign-sm2', file: 'gateway-keys/sign-sm2.pub.pem (from the gateway\'s operators)' }],
  }, null, 2)}\n`)
  writeFileSync(join(out, 'sample-client.mts'), sampleClient(relative(out, CLIENT_SDK).replaceAll('\\', '/')))

  process.stdout.write([
    `partner ${id} (${suite} suite) in ${out}:`,
    `  keys/sign.key.pem, keys/enc.key.pem   private keys (mode 0600): keep them here`,
    `  csr/sign.csr.pem, csr/enc.csr.pem     for your CA (subject CN=${id})`,
    `  directory-entry.json                  send it to the gateway's operators (endpoint: ${endpoint})`,
    `  client.json, sample-client.mts         from this repository's folder: node --import tsx ${relative(process.cwd(), join(out, 'sample-client.mts'))} [message.json]`,
    '',
  ].join('\n'))
  return 0
}

/** The sample client: a token, the signed directory, and (given a file) one message with its receipt checked. */
function sampleClient(sdk: string): string {
  return `// A sample Tongban client, written by \`tongban partner init\`. Run it from the Tongban
// repository's folder (it imports the SDK of src/client/ and runs through tsx):
//   node --import tsx path/to/sample-client.mts [message.json]
// It reads client.json (the gateway's URL, this partner's id and keys, the gateway's pinned keys),
// gets an access token, reads the gateway's signed directory, and — given a message file
// ({ "type", "to"?, "caseId"?, "unitCode"?, "body" }) — sends it and checks the signed receipt.
import { readFileSync } from 'node:fs'
import { PrivateKey, PublicKey, TongbanClient } from '${sdk.startsWith('.') ? sdk : `./${sdk}`}'

const here = new URL('.', import.meta.url)
const config = JSON.parse(readFileSync(new URL('client.json', here), 'utf8'))
const pem = (file: string): string => readFileSync(new URL(file, here), 'utf8')
const client = new TongbanClient({
  baseUrl: config.gatewayUrl,
  participantId: config.participantId,
  signingKey: PrivateKey.fromPem(config.signingKey.kid, pem(config.signingKey.file)),
  encryptionKey: PrivateKey.fromPem(config.encryptionKey.kid, pem(config.encryptionKey.file)),
  gatewayKeys: config.gatewayKeys.map((k: { kid: string; file: string }) => PublicKey.fromPem(k.kid, pem(k.file))),
})
try {
  await client.token()
  console.log(\`token: ok for \${config.participantId}\`)
  const directory = await client.directory()
  console.log(\`directory: issued \${directory.issuedAt} by \${directory.gatewayId}, its signature checked with the pinned key\`)
  const file = process.argv[2]
  if (file !== undefined) {
    const message = JSON.parse(readFileSync(file, 'utf8'))
    const sent = await client.send(message)
    console.log(\`sent \${message.type}: receipt verified, message \${sent.receipt.messageId}, exchange \${sent.exchangeId}\`)
  }
} finally {
  await client.close()
}
`
}
