import t from 'tap'
import { parseJws, verifyJws } from '../../src/crypto/index.ts'
import { World } from '../helpers/world.ts'

// Issue 7 §10: GET /v1/directory is open to anyone, so it must not cost a signature per request:
// the gateway signs once per directory and suite. SM2 and ES256 signatures are randomised, so
// byte-identical answers prove the signature was not made again.
const w = await World.start({
  label: 'dircache',
  partners: [{ id: 'REG:231202', suite: 'national', send: [], receive: [] }, { id: 'TAX:231202', send: [], receive: [] }],
})
t.teardown(() => w.close())

const get = async (suite: string): Promise<string> => {
  const r = await fetch(`${w.url}/v1/directory?suite=${suite}`)
  if (r.status !== 200) throw new Error(`GET /v1/directory answered ${r.status}`)
  return r.text()
}

/** The directory JWS verifies under the gateway's published signing key of its suite. */
async function verifies(jws: string): Promise<boolean> {
  const parsed = parseJws(jws)
  const key = w.app.tb.keyring.publicKeys().signing.find((k) => k.kid === parsed.header.kid)
  return key !== undefined && verifyJws(parsed, key)
}

t.test('each suite is signed once: repeated GETs return the same bytes', async (t) => {
  for (const suite of ['international', 'national']) {
    const [a, b, c] = await Promise.all([get(suite), get(suite), get(suite)])
    const d = await get(suite)
    t.ok(a === b && b === c && c === d, `${suite}: four GETs, concurrent and later, byte-identical`)
    t.ok(await verifies(a), `${suite}: and the signature holds`)
  }
  t.not(await get('national'), await get('international'), 'one signature per suite')
})

t.test('a reloaded directory is signed afresh', async (t) => {
  const before = await get('international')
  // A reload swaps the content of the same Directory object and counts its version up.
  const same = w.app.tb.directory
  t.equal((await w.app.tb.reloadDirectory('test')).version, 2)
  t.equal(w.app.tb.directory, same, 'the same object, reloaded')
  const after = await get('international')
  t.not(after, before, 'a new document')
  t.ok(await verifies(after))
  t.equal(await get('international'), after, 'and that one is cached in turn')
})

// Issue 11: the published directory has its own schema (schemas/published-directory.v1.json); what
// the gateway serves matches it, in both suites.
t.test('the published directory matches schemas/published-directory.v1.json', async (t) => {
  const { Ajv } = await import('ajv')
  const { readFileSync } = await import('node:fs')
  const schema = JSON.parse(readFileSync(new URL('../../schemas/published-directory.v1.json', import.meta.url), 'utf8')) as object
  const validate = new Ajv({ allErrors: true, strict: true }).compile(schema)
  for (const suite of ['national', 'international']) {
    const res = await fetch(`${w.url}/v1/directory?suite=${suite}`)
    const payload = JSON.parse(parseJws(await res.text()).payload.toString('utf8')) as unknown
    t.ok(validate(payload), `${suite}: ${JSON.stringify(validate.errors)}`)
  }
})
