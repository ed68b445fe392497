import t from 'tap'
import { ALONE, GroupWriter, type GroupWrites } from '../../src/store/group.ts'

// The group writer's scheduling (src/store/group.ts), on its own: what it sends, when. The
// statements here are functions that record their calls; what PostgreSQL does with the groups is
// test/store/accept-many.test.ts.

const never = new Promise<never>(() => {})
// The writer's stall timer does not keep a process alive (a gateway's server does): this does, here.
const alive = setInterval(() => {}, 1_000)
t.teardown(() => clearInterval(alive))

function writer(over: Partial<GroupWrites<string, string>> = {}): { w: GroupWriter<string, string>; calls: string[][] } {
  const calls: string[][] = []
  const w = new GroupWriter<string, string>({
    one: async (x) => { calls.push([x]); return `one:${x}` },
    many: async (xs) => { calls.push([...xs]); return xs.map((x) => `many:${x}`) },
    maxGroup: 3, maxWriting: 1, order: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
    ...over,
  })
  return { w, calls }
}

t.test('idle, an item is written alone and at once; those that arrive meanwhile go together, in order, at most maxGroup', async (t) => {
  const { w, calls } = writer()
  const results = await Promise.all(['a', 'e', 'd', 'c', 'b', 'f'].map((x) => w.write(x)))
  t.same(results, ['one:a', 'many:e', 'many:d', 'many:c', 'many:b', 'many:f'])
  t.same(calls, [['a'], ['c', 'd', 'e'], ['b', 'f']], 'a alone, then the next three sorted, then the rest: three statements for six items')
})

t.test('a statement that hangs holds its place only until stallMs: the items behind it are written', async (t) => {
  let first = true
  const { w, calls } = writer({
    stallMs: 50,
    one: async (x) => { calls.push([x]); if (first) { first = false; return never } return `one:${x}` },
  })
  void w.write('hangs')
  const started = Date.now()
  const later = await Promise.all([w.write('x'), w.write('y')])
  t.same(later, ['many:x', 'many:y'], 'written as a group once the place was free')
  t.ok(Date.now() - started >= 45, 'after the hung statement\'s stallMs')
})

t.test('a group whose statement fails is written item by item, and those items do not hold the place', async (t) => {
  const { w, calls } = writer({
    stallMs: 600_000, // not the stall timer: the items written alone never held the place
    many: async (xs) => { calls.push([...xs]); if (xs.includes('bad')) throw new Error('refused whole'); return xs.map((x) => `many:${x}`) },
    one: async (x) => { calls.push([x]); if (x === 'bad') throw new Error('bad alone'); if (x === 'slow') return never; return `one:${x}` },
  })
  const first = w.write('first')
  const group = ['bad', 'ok', 'slow'].map((x) => w.write(x).then((r) => r, (e: Error) => e.message))
  await first
  t.same(await Promise.all(group.slice(0, 2)), ['bad alone', 'one:ok'], 'each alone: its own result or its own error')
  t.same(await w.write('after'), 'one:after', 'an item after them is written while one of them still hangs')
})

t.test('an item sent back ALONE is written alone', async (t) => {
  const { w, calls } = writer({ many: async (xs) => { calls.push([...xs]); return xs.map((x) => (x === 'q' ? ALONE : `many:${x}`)) } })
  const r = await Promise.all(['p', 'q', 'r'].map((x) => w.write(x)))
  t.same(r, ['one:p', 'one:q', 'many:r'])
  t.same(calls, [['p'], ['q', 'r'], ['q']])
})
