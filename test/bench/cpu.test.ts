import { existsSync } from 'node:fs'
import pg from 'pg'
import t from 'tap'
import { cpuSnapshot, cpuSpent, processCpuMs } from '../../bench/cpu.ts'
import { DATABASE_URL } from '../helpers/services.ts'

// bench/cpu.ts counts PostgreSQL's CPU during a benchmark from /proc. A backend that ends within
// the window (a pool closes its idle connections after 10 s; an autovacuum worker finishes) takes
// its count with it, unless the postmaster's reaped children's time is counted too: in a long
// bench:e2e run the gateway's connections idled out while the worker still delivered, and
// PostgreSQL's CPU per message read about half of what it was.
t.test("a PostgreSQL backend's CPU still counts after it ends within the window", async (t) => {
  const client = new pg.Client({ connectionString: DATABASE_URL })
  await client.connect()
  const pid = Number((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid)
  const before = cpuSnapshot(undefined)
  const at = processCpuMs(pid)
  await client.query('SELECT count(*) FROM generate_series(1, 3000000)')
  const burnt = processCpuMs(pid) - at
  t.ok(burnt >= 100, `the backend spent ${burnt} ms in the window`)
  await client.end()
  for (let i = 0; i < 200 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 10))
  t.notOk(existsSync(`/proc/${pid}`), 'and it has ended and been reaped')
  const spent = cpuSpent(before, cpuSnapshot(undefined))
  // Other sessions may add to the count (tests run side by side), never take from it.
  t.ok(spent.postgres >= burnt - 20, `PostgreSQL's count grew by ${spent.postgres} ms, at least the ended backend's ${burnt} ms (one tick of 10 ms either side)`)
})
