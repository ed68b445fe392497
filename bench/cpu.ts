/**
 * CPU time counted by the kernel (/proc), not sampled: what a benchmark's gateway and the machine
 * around it spent during a measured window. A profile samples wall time, so a thread the kernel
 * takes off the core mid-call is charged to that call; these counts are on-CPU time only.
 *
 *   const before = cpuSnapshot(pid); …run…; const spent = cpuSpent(before, cpuSnapshot(pid))
 */
import { readdirSync, readFileSync } from 'node:fs'

/** Clock ticks per second of /proc's counters (USER_HZ: 100 on Linux). */
const HZ = 100

export interface CpuSnapshot {
  readonly at: number
  /** The gateway's main thread (its event loop), in ticks. */
  readonly main: number
  /** Every thread of the gateway process and its children (libuv's threadpool, where SM2 runs; V8's helpers). */
  readonly gateway: number
  /**
   * Every PostgreSQL server process on the machine, with those that ended (a backend whose pool
   * closed it when idle, an autovacuum worker): the postmaster reaps them, and /proc counts their
   * CPU in its children's time.
   */
  readonly postgres: number
  /** Every Redis server process on the machine. */
  readonly redis: number
  /** The whole machine's busy time (all cores, /proc/stat), in ticks. */
  readonly machine: number
}

/** Milliseconds of CPU spent in each part between two snapshots. */
export interface CpuSpent {
  readonly seconds: number
  readonly main: number
  readonly gateway: number
  readonly postgres: number
  readonly redis: number
  readonly machine: number
}

function ticksOf(stat: string, reaped = false): number {
  // Fields after the command name (which may hold spaces): utime is the 12th, stime the 13th;
  // cutime and cstime (its ended children's, once reaped) the 14th and 15th.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(f[11]) + Number(f[12]) + (reaped ? Number(f[13]) + Number(f[14]) : 0)
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

function processes(): { pid: number; ppid: number; comm: string; ticks: number; reaped: number }[] {
  const out = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const stat = read(`/proc/${name}/stat`)
    if (stat === undefined) continue
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    out.push({ pid: Number(name), ppid, comm, ticks: ticksOf(stat), reaped: ticksOf(stat, true) })
  }
  return out
}

/** One process's CPU (user + system) so far, in milliseconds; 0 once it is gone. */
export function processCpuMs(pid: number): number {
  const stat = read(`/proc/${pid}/stat`)
  return stat === undefined ? 0 : (ticksOf(stat) * 1000) / HZ
}

/** The counters now, for the gateway process `pid` (and its children) and the machine. */
export function cpuSnapshot(pid: number | undefined): CpuSnapshot {
  const all = processes()
  const tree = new Set(pid === undefined ? [] : [pid])
  for (let grew = true; grew;) {
    grew = false
    for (const p of all) if (!tree.has(p.pid) && tree.has(p.ppid)) tree.add(p.pid), (grew = true)
  }
  const sum = (f: (p: { pid: number; comm: string }) => boolean, withEnded = false): number =>
    all.filter(f).reduce((n, p) => n + (withEnded ? p.reaped : p.ticks), 0)
  const mainStat = pid === undefined ? undefined : read(`/proc/${pid}/task/${pid}/stat`)
  const cpu = (read('/proc/stat') ?? '').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? []
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
  const busy = cpu.reduce((n, v, i) => (i === 3 || i === 4 || i > 7 ? n : n + v), 0)
  return {
    at: performance.now(),
    main: mainStat === undefined ? 0 : ticksOf(mainStat),
    gateway: sum((p) => tree.has(p.pid)),
    postgres: sum((p) => p.comm.startsWith('postgres'), true),
    redis: sum((p) => p.comm.startsWith('redis-server')),
    machine: busy,
  }
}

export function cpuSpent(a: CpuSnapshot, b: CpuSnapshot): CpuSpent {
  const ms = (x: number, y: number): number => ((y - x) * 1000) / HZ
  return { seconds: (b.at - a.at) / 1000, main: ms(a.main, b.main), gateway: ms(a.gateway, b.gateway), postgres: ms(a.postgres, b.postgres), redis: ms(a.redis, b.redis), machine: ms(a.machine, b.machine) }
}

/** Per message, in milliseconds of CPU, rounded to 0.01. */
export function perMessage(s: CpuSpent, n: number): { mainMs: number; gatewayMs: number; postgresMs: number; redisMs: number; machineMs: number } {
  const r = (v: number): number => Math.round((v / Math.max(1, n)) * 100) / 100
  return { mainMs: r(s.main), gatewayMs: r(s.gateway), postgresMs: r(s.postgres), redisMs: r(s.redis), machineMs: r(s.machine) }
}
