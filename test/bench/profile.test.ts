import t from 'tap'
import { bucket, report, summarize } from '../../bench/profile.ts'

// bench/profile.ts (npm run bench:accept -- --profile) sums a V8 CPU profile by who asked for the
// work: native code and Node's internals are charged to the nearest dependency or room above them.
const frame = (functionName: string, url: string) => ({ functionName, url })

t.test('buckets by where the code lives', async (t) => {
  t.equal(bucket(frame('query', 'file:///app/node_modules/pg/lib/client.js')), 'node-postgres (pg)')
  t.equal(bucket(frame('add', 'file:///app/node_modules/bullmq/dist/esm/classes/queue.js')), 'BullMQ')
  t.equal(bucket(frame('accept', 'file:///app/dist/src/core/accept.js')), 'src/core')
  t.equal(bucket(frame('sign', 'file:///app/src/crypto/sm/native.ts')), 'SM2/SM3/SM4 (binding and JS around it)')
  t.equal(bucket(frame('(garbage collector)', '')), 'garbage collection')
  t.equal(bucket(frame('writev', '')), 'native: writev')
})

t.test('native code is charged to its caller; idle and GC stay apart', async (t) => {
  // root → pg query → node:net write → native writev; root → a src/core function; idle; GC.
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 5, 6, 7] },
      { id: 2, callFrame: frame('query', 'file:///app/node_modules/pg/lib/client.js'), children: [3] },
      { id: 3, callFrame: frame('write', 'node:net'), children: [4] },
      { id: 4, callFrame: frame('writev', ''), children: [] },
      { id: 5, callFrame: frame('accept', 'file:///app/dist/src/core/accept.js'), children: [] },
      { id: 6, callFrame: frame('(idle)', ''), children: [] },
      { id: 7, callFrame: frame('(garbage collector)', ''), children: [] },
    ],
    samples: [4, 4, 3, 5, 6, 6, 7],
    timeDeltas: [1000, 1000, 1000, 2000, 5000, 5000, 500],
  }
  const totals = summarize([profile])
  t.same(Object.fromEntries(totals), { 'node-postgres (pg)': 3, 'src/core': 2, idle: 10, 'garbage collection': 0.5 })
  const { json } = report(totals)
  t.same(json, { 'node-postgres (pg)': 0.545, 'src/core': 0.364, 'garbage collection': 0.091 }, 'shares of busy time, idle left out')
})
