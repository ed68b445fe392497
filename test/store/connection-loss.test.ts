import t from 'tap'
import { inTransaction, openDb } from '../../src/store/db.ts'
import { isDependencyDown } from '../../src/inbound/problem.ts'
import { DATABASE_URL } from '../helpers/services.ts'
import { TcpProxy } from '../helpers/tcp-proxy.ts'

// PostgreSQL going away while a transaction holds a connection (a restart, a failover): the
// transaction fails as "dependency down" (503 upstream) and the process lives on. Before the fix,
// the held connection's 'error' event had no listener and ended the process. Real PostgreSQL,
// reached through a proxy the test cuts.
const target = new URL(DATABASE_URL)
const proxy = await TcpProxy.start(target.hostname, Number(target.port || 5432))
const db = openDb(proxy.rewrite(DATABASE_URL), 'public', 2)
t.teardown(async () => {
  await db.end().catch(() => {})
  await proxy.close()
})

t.test('a transaction that loses its connection fails, and the process lives on', async (t) => {
  const running = inTransaction(db, async (tx) => {
    await tx.query('SELECT 1')
    setTimeout(() => proxy.cut(), 100)
    await tx.query('SELECT pg_sleep(2)')
  })
  const err = await running.then(() => undefined, (e: unknown) => e)
  t.ok(err, 'the transaction fails')
  t.ok(isDependencyDown(err), `as a dependency down (${(err as Error).message})`)
  // A moment for any late 'error' event on the dead connection: unhandled, it would end the process here.
  await new Promise((r) => setTimeout(r, 300))
  proxy.restore()
  const n = await inTransaction(db, async (tx) => (await tx.query<{ n: number }>('SELECT 41 + 1 AS n')).rows[0]?.n)
  t.equal(n, 42, 'the next transaction works: the broken connection did not go back to the pool')
})
