import cluster, { type Worker } from 'node:cluster'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AggregatorRegistry, type Registry } from 'prom-client'
import type { Config } from '../config/index.ts'
import { migrate, openDb } from '../store/db.ts'
import type { Logger } from '../util/log.ts'

/** Whether this process is one of several gateway processes started by `processes` (a cluster worker). */
export const inCluster = (): boolean => cluster.isWorker

/** A cluster worker answers the primary's metrics requests from its own registry. */
export function shareMetrics(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry])
  // (Constructing one is what makes prom-client answer the primary's requests in a worker.)
  new AggregatorRegistry()
}

/** Restarts allowed within a minute before the primary gives up (a process that cannot start). */
const MAX_RESTARTS_PER_MINUTE = 5

/**
 * The primary of `processes` gateway processes (node:cluster): it applies the migrations once,
 * forks the processes — each a whole gateway (API on the one shared port, round-robin; the
 * console; the workers) — restarts one that dies, forwards SIGHUP (directory reload) to each, and
 * on SIGTERM/SIGINT stops them all. It serves GET /metrics for them all: counters summed, state
 * gauges as one value (`aggregator`), so a scrape does not depend on which process it reaches.
 */
export async function runPrimary(config: Config, logger: Logger): Promise<number> {
  const db = openDb(config.databaseUrl, config.dbSchema, 1)
  try {
    await migrate(db, config.dbSchema)
  } finally {
    await db.end()
  }
  const metrics = config.metrics.enabled ? await metricsServer(config, logger) : undefined
  const running = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined)
  let finish = (): void => {}
  const finished = new Promise<void>((r) => { finish = r })
  let stopping = false
  let failed = false
  /** SIGTERM to every process; those still running 30 s later are killed. Done when none is left. */
  const stopAll = (): void => {
    stopping = true
    if (running().length === 0) finish()
    for (const w of running()) w.process.kill('SIGTERM')
    setTimeout(() => { for (const w of running()) w.process.kill('SIGKILL') }, 30_000).unref()
  }
  const exits: number[] = []
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (running().length === 0) finish()
      return
    }
    const now = Date.now()
    exits.push(now)
    while ((exits[0] as number) < now - 60_000) exits.shift()
    if (exits.length > MAX_RESTARTS_PER_MINUTE) {
      logger.fatal({ pid: worker.process.pid, code, signal, restarts: exits.length }, 'gateway processes keep dying: stopping')
      failed = true
      stopAll()
      return
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'a gateway process died: starting another')
    setTimeout(() => { if (!stopping) cluster.fork() }, 1_000).unref()
  })
  for (let i = 0; i < config.processes; i++) cluster.fork()
  logger.info({ processes: config.processes, port: config.listen.port }, 'gateway processes started')

  const hup = (): void => { for (const w of running()) w.process.kill('SIGHUP') }
  process.on('SIGHUP', hup)
  const stop = (signal: string): void => {
    if (stopping) return
    logger.info({ signal }, 'stopping the gateway processes')
    stopAll()
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
  await finished
  process.off('SIGHUP', hup)
  if (metrics !== undefined) await new Promise<void>((r) => { metrics.closeAllConnections(); metrics.close(() => r()) })
  return failed ? 1 : 0
}

/** GET /metrics of every process, on the metrics listener (the processes do not open it). */
async function metricsServer(config: Config, logger: Logger): Promise<Server> {
  const aggregator = new AggregatorRegistry()
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end()
      return
    }
    aggregator.clusterMetrics().then(
      (text) => res.writeHead(200, { 'content-type': aggregator.contentType }).end(text),
      (err: unknown) => { logger.warn({ err }, 'metrics of the gateway processes could not be gathered'); res.writeHead(500).end() },
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.metrics.port, config.metrics.host, () => resolve())
  })
  const address = server.address() as AddressInfo
  logger.info({ metrics: `http://${config.metrics.host}:${address.port}/metrics` }, 'metrics listening (all processes)')
  return server
}
