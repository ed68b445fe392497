// UUIDv7 (RFC 9562) ids: version and variant bits, the time in front, and no repeats across many
// refills of the random pool they draw from.
import t from 'tap'
import { systemIds, uuid7At, UUID_RE } from '../../src/util/ids.ts'

t.test('version 7, RFC 9562 variant, the millisecond time first', async (t) => {
  const ms = Date.UTC(2026, 11, 6, 12, 0, 0, 123)
  const id = uuid7At(ms)
  t.match(id, UUID_RE)
  t.equal(id[14], '7', 'version 7')
  t.ok('89ab'.includes(id[19] as string), 'variant 10xx')
  t.equal(parseInt(id.replace(/-/g, '').slice(0, 12), 16), ms, 'the first 48 bits are the time')
  t.equal(uuid7At(ms, new Uint8Array(10)), `${id.slice(0, 8)}-${id.slice(9, 13)}-7000-8000-000000000000`, 'given random bytes are used as given')
  // Every bit placed: the 48-bit time (above 2^32), the version over the first byte's low half,
  // the variant over the third's low six bits, then the other bytes in order.
  t.equal(uuid7At(0xfedcba987654, Uint8Array.from([0xff, 0xfe, 0xfd, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd])), 'fedcba98-7654-7ffe-bd01-23456789abcd')
  t.equal(uuid7At(0, new Uint8Array(10)), '00000000-0000-7000-8000-000000000000', 'time 0')
})

t.test('50,000 ids in one millisecond (about 120 refills of the pool): no repeats', async (t) => {
  const seen = new Set<string>()
  for (let i = 0; i < 50_000; i++) seen.add(uuid7At(1_700_000_000_000))
  t.equal(seen.size, 50_000)
})

t.test('ids sort by time', async (t) => {
  const ids = [3, 1, 2].map((s) => uuid7At(1_700_000_000_000 + s * 1000))
  t.same([...ids].sort(), [ids[1], ids[2], ids[0]])
  t.match(systemIds().uuid7(), UUID_RE)
  t.not(systemIds().nonce(), systemIds().nonce())
})
