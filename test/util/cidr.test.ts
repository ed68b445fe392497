import t from 'tap'
import { AddressSet, hostWithin } from '../../src/util/cidr.ts'

// The private-network sources of a participant (issue 7 item 9): IPv4, IPv6, and the
// IPv4-mapped IPv6 addresses a dual-stack socket reports.
const { set, problems } = AddressSet.parse(['10.1.0.0/16', '127.0.0.1/32', 'fd00:1::/64', '::1'])

t.test('addresses in and out of the ranges', async (t) => {
  t.same(problems, [])
  const rows: Array<[string, boolean]> = [
    ['10.1.2.3', true], ['10.2.0.1', false], ['127.0.0.1', true], ['127.0.0.2', false],
    ['::ffff:127.0.0.1', true], ['::FFFF:10.1.200.7', true], ['::ffff:10.2.0.1', false],
    ['::1', true], ['fd00:1::abcd', true], ['fd00:2::1', false], ['fe80::1%eth0', false],
    ['', false], ['not an address', false], ['10.1.2.3/32', false],
  ]
  const wrong = rows.filter(([address, want]) => set.contains(address) !== want)
  t.same(wrong, [], 'every address is matched as expected')
})

t.test('bad CIDRs are reported by index', async (t) => {
  const r = AddressSet.parse(['10.0.0.0/8', '10.0.0.0/33', 'fd00::/129', 'example.org', '10.0.0.0/', '10.0.0.0/x'])
  t.same(r.problems.map((p) => p.index), [1, 2, 3, 4, 5])
  t.ok(r.set.contains('10.9.9.9'), 'the good entries still count')
})

t.test('a query endpoint is within the sources by its address (names resolve)', async (t) => {
  t.equal(await hostWithin(set, 'http://127.0.0.1:8080/query'), true)
  t.equal(await hostWithin(set, 'http://[::1]:8080/query'), true)
  t.equal(await hostWithin(set, 'https://10.9.0.1/query'), false)
  t.equal(await hostWithin(set, 'http://localhost:8080/query'), true, 'localhost resolves to loopback')
  t.equal(await hostWithin(set, undefined), false)
  t.equal(await hostWithin(set, 'not a url'), false)
})
