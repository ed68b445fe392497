import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Db } from '../store/db.ts'

/**
 * What the gateway counts, for Prometheus (GET /metrics). Labels are message types, error
 * codes, outcomes and participant ids — never personal data. Gauges that describe stored state
 * (pending and dead deliveries, overdue steps) are read from PostgreSQL when scraped, so every
 * instance reports the same truth.
 */
export interface GatewayMetrics {
  readonly registry: Registry
  readonly accepted: Counter<'type' | 'suite' | 'repeat'>
  readonly rejected: Counter<'code'>
  readonly deliveries: Counter<'recipient' | 'outcome'>
  readonly queries: Counter<'type' | 'outcome'>
  readonly acceptSeconds: Histogram<'suite'>
  readonly circuitEvents: Counter<'recipient' | 'event'>
  readonly attachmentBytes: Counter<'direction'>
}

/**
 * The metrics of one gateway process; `db` backs the state gauges, `breakers` the query circuit
 * gauge, `circuits` the delivery circuit gauge (from Redis: the same in every instance).
 */
export function createMetrics(db: () => Db | undefined, breakers: () => ReadonlyMap<string, string>, circuits: () => Promise<ReadonlyMap<string, { state: string }>> | undefined): GatewayMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'tongban_' })
  const accepted = new Counter({ name: 'tongban_messages_accepted_total', help: 'Messages accepted (POST /v1/messages), by type and suite; repeat="true" for identical repeats answered with the original receipt', labelNames: ['type', 'suite', 'repeat'], registers: [registry] })
  const rejected = new Counter({ name: 'tongban_requests_rejected_total', help: 'Requests refused, by stable error code', labelNames: ['code'], registers: [registry] })
  const deliveries = new Counter({ name: 'tongban_delivery_attempts_total', help: 'Delivery attempts by recipient and outcome (delivered, retry, dead)', labelNames: ['recipient', 'outcome'], registers: [registry] })
  const queries = new Counter({ name: 'tongban_queries_total', help: 'Synchronous queries by type and outcome', labelNames: ['type', 'outcome'], registers: [registry] })
  const acceptSeconds = new Histogram({ name: 'tongban_accept_seconds', help: 'Time to accept a message (decrypt, verify, validate, store, enqueue, sign the receipt)', labelNames: ['suite'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] })

  const stateGauge = (name: string, help: string, sql: string): void => {
    // Every process reads the same rows: with several processes (node:cluster), the primary shows one value, not their sum.
    new Gauge({
      name, help, registers: [registry], aggregator: 'max',
      async collect() {
        const pool = db()
        if (pool === undefined) return
        const r = await pool.query<{ n: number }>(sql).catch(() => undefined)
        if (r !== undefined) this.set(r.rows[0]?.n ?? 0)
      },
    })
  }
  stateGauge('tongban_deliveries_pending', 'Deliveries not yet taken by their recipient', `SELECT count(*)::int AS n FROM deliveries WHERE status = 'pending'`)
  stateGauge('tongban_deliveries_dead', 'Dead deliveries waiting for an operator (replay)', `SELECT count(*)::int AS n FROM deliveries WHERE status = 'dead'`)
  stateGauge('tongban_case_steps_overdue', 'Open case steps past their deadline', `SELECT count(*)::int AS n FROM case_steps WHERE status = 'open' AND due_at < now()`)
  stateGauge('tongban_case_steps_open', 'Case steps waiting for an answer', `SELECT count(*)::int AS n FROM case_steps WHERE status = 'open'`)
  new Gauge({
    name: 'tongban_partner_circuit_open', help: 'Partners whose circuit breaker is open (1) or half-open (0.5)', labelNames: ['partner'], registers: [registry], aggregator: 'max',
    collect() {
      this.reset()
      for (const [partner, state] of breakers()) if (state !== 'closed') this.set({ partner }, state === 'open' ? 1 : 0.5)
    },
  })
  new Gauge({
    name: 'tongban_delivery_circuit_open', help: 'Recipients whose delivery circuit is open (1: deliveries wait) or half-open (0.5: one probe at a time); shared by every instance', labelNames: ['recipient'], registers: [registry], aggregator: 'max',
    async collect() {
      const states = await circuits()?.catch(() => undefined)
      if (states === undefined) return
      this.reset()
      for (const [recipient, c] of states) this.set({ recipient }, c.state === 'open' ? 1 : 0.5)
    },
  })
  const circuitEvents = new Counter({ name: 'tongban_delivery_circuit_events_total', help: 'Delivery circuit events in this process, by recipient: opened, probing (half-open), closed, and held (a delivery put back without an attempt while the circuit was open)', labelNames: ['recipient', 'event'], registers: [registry] })
  const attachmentBytes = new Counter({ name: 'tongban_attachment_bytes_total', help: 'Bytes of attachments (申请材料) stored from uploads (direction="in") and sent whole to readers (direction="out"), counted as file bytes', labelNames: ['direction'], registers: [registry] })
  return { registry, accepted, rejected, deliveries, queries, acceptSeconds, circuitEvents, attachmentBytes }
}
