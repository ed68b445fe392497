import t from 'tap'
import { spawnSync } from 'node:child_process'
import { plainEnv, tongbanCommand } from '../helpers/subprocess.ts'
import { dropSchema, isolationName } from '../helpers/services.ts'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ADAPTERS } from '../../adapters/index.ts'
import { Directory, DirectoryError } from '../../src/core/directory.ts'
import { createMessageValidator } from '../../src/core/schemas.ts'
import { PrivateKey } from '../../src/crypto/index.ts'

// Issue 2: a bad participant directory fails at boot with the JSON pointer of each fault.
const dir = mkdtempSync(join(tmpdir(), 'tongban-directory-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const validator = createMessageValidator()
const checks = { adapters: ADAPTERS, knownType: (type: string) => validator.types().some((x) => x.type === type), hasPartnerSecret: () => false }
const sm2 = PrivateKey.generate('x', 'sm2').privateKey.publicKey.toPem()
const ec = PrivateKey.generate('x', 'ec-p256').privateKey.publicKey.toPem()

function participant(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id, name: 'agency', signingKeys: [{ kid: `${id}#s1`, publicKey: sm2 }], encryptionKey: { kid: `${id}#e1`, publicKey: ec },
    endpoint: 'http://127.0.0.1:1/inbox', adapter: 'native', send: [], receive: ['tax.assessment.request'], ...extra,
  }
}
function load(doc: unknown): readonly string[] {
  try {
    Directory.fromJson(doc, checks, { file: 'test.json', baseDir: dir })
    return []
  } catch (err) {
    if (err instanceof DirectoryError) return err.problems
    throw err
  }
}

t.test('a valid directory loads', async (t) => {
  t.same(load({ version: 1, participants: [participant('TAX:231202'), participant('BANK:91230100MA1B2C3D49:suihua', { receive: [] })] }), [])
})

t.test('each fault is reported with its JSON pointer, all at once', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['schema: a missing field', { version: 1, participants: [{ id: 'TAX:231202' }] }, /^\/participants\/0: must have required property 'name'/],
    ['schema: an unknown field', { version: 1, participants: [participant('TAX:231202', { colour: 'red' })] }, /^\/participants\/0: must NOT have additional properties "colour"/],
    ['a bank id whose credit code fails its check character', { version: 1, participants: [participant('BANK:91230100MA1B2C3D48')] }, /^\/participants\/0\/id: /],
    ['an unknown role', { version: 1, participants: [participant('MOON:231202')] }, /^\/participants\/0\/id: /],
    ['an unknown adapter', { version: 1, participants: [participant('TAX:231202', { adapter: 'carrier-pigeon' })] }, /^\/participants\/0\/adapter: no adapter "carrier-pigeon"/],
    ['an unknown message type', { version: 1, participants: [participant('TAX:231202', { send: ['tax.nonsense.sent'] })] }, /^\/participants\/0\/send\/0: unknown message type/],
    ['a key id of another participant', { version: 1, participants: [participant('TAX:231202', { signingKeys: [{ kid: 'REG:231202#s1', publicKey: sm2 }] })] }, /^\/participants\/0\/signingKeys\/0\/kid: must start with "TAX:231202#"/],
    ['a key id used twice', { version: 1, participants: [participant('TAX:231202', { encryptionKey: { kid: 'TAX:231202#s1', publicKey: ec } })] }, /^\/participants\/0\/encryptionKey\/kid: key id used twice/],
    ['something that is not a key', { version: 1, participants: [participant('TAX:231202', { signingKeys: [{ kid: 'TAX:231202#s1', publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' }] })] }, /^\/participants\/0\/signingKeys\/0: /],
    ['a key file that cannot be read', { version: 1, participants: [participant('TAX:231202', { signingKeys: [{ kid: 'TAX:231202#s1', publicKeyFile: 'nowhere.pem' }] })] }, /^\/participants\/0\/signingKeys\/0\/publicKeyFile: cannot read nowhere\.pem/],
    ['two tax bureaus for one division', { version: 1, participants: [participant('TAX:231202'), participant('TAX:231221', { divisions: ['231202'] })] }, /^\/participants\/1\/divisions: TAX for division 231202 is already TAX:231202/],
    ['two courts numbering cases in one division', { version: 1, participants: [participant('COURT:11231202MB00123459', { divisions: ['231202'] }), participant('COURT:11231221MB0054321Q', { divisions: ['231202'] })] }, /^\/participants\/1\/divisions: COURT for division 231202 is already COURT:11231202MB00123459/],
    ['two water companies for one division', { version: 1, participants: [participant('UTILITY:91231200MA1W00001Q:water', { divisions: ['231202'] }), participant('UTILITY:91231221MA1W00003C:water', { divisions: ['231202'] })] }, /^\/participants\/1\/divisions: UTILITY \(water\) for division 231202 is already UTILITY:91231200MA1W00001Q:water/],
    ['a utility without its service', { version: 1, participants: [participant('UTILITY:91231200MA1W00001Q')] }, /^\/participants\/0\/id: a utility company's id ends with the service/],
    ['a receiver without an endpoint', { version: 1, participants: [participant('TAX:231202', { endpoint: undefined })] }, /^\/participants\/0\/endpoint: required/],
    ['a native partner without keys', { version: 1, participants: [participant('TAX:231202', { signingKeys: [], encryptionKey: undefined })] }, /^\/participants\/0\/signingKeys: required/],
    ['a legacy partner on plain http outside a private network', { version: 1, participants: [participant('TAX:231202', { adapter: 'legacy-tax', signingKeys: undefined, encryptionKey: undefined })] }, /^\/participants\/0\/endpoint: the legacy-tax adapter sends content in clear/],
    ['a participant listed twice', { version: 1, participants: [participant('TAX:231202'), participant('TAX:231202')] }, /^\/participants\/1\/id: participant listed twice/],
    ['deliveries on plain http to another host', { version: 1, participants: [participant('TAX:231202', { endpoint: 'http://10.1.2.3/inbox' })] }, /^\/participants\/0\/endpoint: plain http outside a private network: use https, or mark the link privateNetwork/],
    ['queries on plain http to another host', { version: 1, participants: [participant('TAX:231202', { endpoint: 'https://tax.example/inbox', queryEndpoint: 'http://tax.example/query' })] }, /^\/participants\/0\/queryEndpoint: plain http outside a private network/],
  ]
  for (const [why, doc, want] of cases) t.match(load(doc).join('\n'), want, why)
  const many = load({ version: 1, participants: [participant('TAX:231202', { adapter: 'carrier-pigeon', endpoint: undefined })] })
  t.ok(many.length >= 2, 'several faults, reported together')
})

t.test('plain http: to a loopback host, or on a link marked as a private network', async (t) => {
  for (const endpoint of ['http://127.0.0.1:8080/inbox', 'http://127.8.9.10/inbox', 'http://localhost:8080/inbox', 'http://[::1]:8080/inbox', 'https://tax.example/inbox']) {
    t.same(load({ version: 1, participants: [participant('TAX:231202', { endpoint })] }), [], endpoint)
  }
  t.same(load({ version: 1, participants: [participant('TAX:231202', { endpoint: 'http://10.1.2.3/inbox', privateNetwork: { sources: ['10.1.0.0/16'] } })] }), [], 'a private-network link')
  for (const endpoint of ['http://127.0.0.1.example/inbox', 'http://localhost.example/inbox', 'http://128.0.0.1/inbox']) {
    t.match(load({ version: 1, participants: [participant('TAX:231202', { endpoint })] }).join('\n'), /endpoint: plain http outside a private network/, `${endpoint} is not loopback`)
  }
})

t.test('tongban serve refuses a bad directory at start, naming the pointer (exit 78)', async (t) => {
  const bad = join(dir, 'bad.json')
  writeFileSync(bad, JSON.stringify({ version: 1, participants: [participant('TAX:231202', { adapter: 'carrier-pigeon' })] }))
  const run = (args: string[], env: NodeJS.ProcessEnv = plainEnv()) => {
    const [cmd, argv] = tongbanCommand(args)
    return spawnSync(cmd, argv, { encoding: 'utf8', timeout: 60_000, env })
  }
  const keys = fileURLToPath(new URL('../../certs-example/gateway', import.meta.url))
  // The gateway migrates its schema before it reads the directory: a schema of this run's own, dropped after.
  const schema = isolationName('dirtest')
  t.teardown(() => dropSchema(schema))
  const r = run(['serve', '--directory', bad, '--keys', keys, '--allow-sample-keys', '--port', '0'], { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TONGBAN_DB_SCHEMA: schema })
  t.equal(r.status, 78)
  t.match(r.stderr, /\/participants\/0\/adapter: no adapter "carrier-pigeon"/)
  const check = run(['directory', 'check', bad])
  t.equal(check.status, 78)
  t.match(check.stderr, /\/participants\/0\/adapter/)
  const good = run(['directory', 'check', fileURLToPath(new URL('../../certs-example/directory.json', import.meta.url))])
  t.equal(good.status, 0, good.stderr)
})
