import type { Config, DeepPartial } from '../../src/config/index.ts'
import type { TongbanClient } from '../../src/client/index.ts'
import type { Clock } from '../../src/util/ids.ts'
import { validFixture } from './fixtures.ts'
import type { PartnerServer } from './partner.ts'
import { World } from './world.ts'

export const REG = 'REG:231202'
export const TAX = 'TAX:231202'

/** A tax assessment request as sent: its exact bytes (to send again) and its receipt. */
export interface Sent { readonly exchangeId: string; readonly messageId: string; readonly caseId: string; readonly body: string; readonly receipt: string }

/** What the retention tests need of a world: one registration centre sending to one tax bureau, on a test clock. */
export interface RetentionWorld {
  readonly w: World
  readonly reg: TongbanClient
  readonly tax: PartnerServer
  /** Sends a new tax assessment request in a case of its own (case numbers from `firstCase`), keeping its bytes. */
  send(): Promise<Sent>
  /** The first delivery of an exchange as its sender sees it. */
  delivery(exchangeId: string): Promise<{ deliveryId: string; status: string; attempts: number }>
}

/**
 * A world for retention: a delivery kept pending survives the months a test clock skips (a year
 * of delivery age, attempts to spare, no circuit), with `retention` as given.
 */
export async function retentionWorld(label: string, clock: Clock, retention: DeepPartial<Config['retention']>, firstCase: number): Promise<RetentionWorld> {
  const w = await World.start({
    label,
    clock,
    config: {
      retention: { checkIntervalMs: 3_600_000, ...retention },
      delivery: { attempts: 1_000, backoffMs: 200, maxBackoffMs: 1_000, maxAgeSeconds: 365 * 86_400, sweepIntervalMs: 60_000, sweepGraceMs: 60_000, concurrency: 2, lockMs: 2_000, circuitFailures: 0 },
    },
    partners: [
      { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
      { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
    ],
  })
  const reg = w.client(REG)
  const request = validFixture('tax.assessment.request')
  let n = firstCase
  return {
    w, reg, tax: w.partner(TAX).server,
    async send() {
      const caseId = `231202-2026-${String(n++).padStart(6, '0')}`
      const env = reg.envelope({ ...request.envelope, caseId } as Parameters<typeof reg.envelope>[0])
      const body = await reg.encrypt(await reg.sign(env))
      const r = await reg.sendRaw(body, env.id)
      return { exchangeId: r.exchangeId, messageId: env.id, caseId, body, receipt: r.receiptJws }
    },
    async delivery(exchangeId) {
      const r = await reg.getExchange(exchangeId)
      return (r.json as { deliveries: Array<{ deliveryId: string; status: string; attempts: number }> }).deliveries[0] as { deliveryId: string; status: string; attempts: number }
    },
  }
}
