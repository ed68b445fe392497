import { residentIdCheckChar } from '../../core/formats.ts'
import type { InboundDelivery } from '../../client/index.ts'
import type { SimulatedAgency } from '../agency.ts'
import { iso } from '../register.ts'
import { within } from './transfer.ts'

/** Building 3 of 康庄家园: 200 flats sold off plan (made-up buyers; their ID numbers are format-valid, not real). */
export const BUILDING = { project: '康庄家园', building: '3', units: 200, developer: { name: '绥化市北林区示范房地产开发有限公司', uscc: '91231202MA1K0D0W06' } }
const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴']
const GIVEN = ['建华', '秀兰', '海燕', '志强', '丽娟', '国庆', '晓东', '春梅', '文博', '雪莲']

/** Flat `n` (1–200) of the building: 20 floors of 10. */
function flat(n: number): { unitCode: string; room: string; floor: number } {
  const floor = Math.ceil(n / 10)
  const room = `${floor}${String(((n - 1) % 10) + 1).padStart(2, '0')}`
  return { unitCode: `231202003004GB00101F0003${String(n).padStart(4, '0')}`, room, floor }
}

/** The buyer of flat `n`: a made-up person born in 1985–1994 (a format-valid resident ID number). */
function buyer(n: number): { name: string; idType: string; idNumber: string; share: string } {
  const first17 = `231202${1985 + (n % 10)}${String((n % 12) + 1).padStart(2, '0')}${String((n % 28) + 1).padStart(2, '0')}${String(100 + n).padStart(3, '0').slice(-3)}`
  return { name: `${SURNAMES[n % 10] ?? '王'}${GIVEN[Math.floor(n / 10) % 10] ?? '建华'}`, idType: '1', idNumber: first17 + residentIdCheckChar(first17), share: '1' }
}

/** The pre-registration filing of flat `n` (预售商品房预告登记申请). */
function filing(n: number, wrongCheckCharacter = false): { type: string; unitCode: string; body: Record<string, unknown> } {
  const f = flat(n)
  const b = buyer(n)
  const idNumber = wrongCheckCharacter ? b.idNumber.slice(0, 17) + (b.idNumber.endsWith('0') ? '1' : '0') : b.idNumber
  return {
    type: 'enterprise.preregistration.request', unitCode: f.unitCode,
    body: {
      developer: BUILDING.developer,
      unit: { unitCode: f.unitCode, location: `绥化市北林区康庄路128号${BUILDING.building}幢${f.room}室`, building: BUILDING.building, floor: f.floor, room: f.room, buildingArea: (88 + (n % 5) * 6.5).toFixed(2), usage: 'residential' },
      buyers: [{ ...b, idNumber }],
      contract: { contractNumber: `YS23120220260${String(3000 + n)}`, filingNumber: `BA23120220260${String(3000 + n)}`, price: (560000 + n * 1000).toFixed(2), signedAt: '2026-11-20' },
      appliedAt: iso(new Date()),
    },
  }
}

/** The centre's desk for a developer's filings: it counts them and says so once all have come. */
export function filingDesk(reg: SimulatedAgency, expect: number): Promise<number> {
  let n = 0
  return new Promise((resolve) => reg.on('enterprise.preregistration.request', async (_d: InboundDelivery) => {
    n++
    if (n === expect) {
      reg.say(`received the ${n} pre-registration filings of ${BUILDING.project} building ${BUILDING.building}, one delivery each: it opens a case for each (受理)`)
      resolve(n)
    }
  }))
}

/**
 * 批量办理: the developer files the pre-registrations of a whole building in one batch — one
 * request, one JWE. One filing has a buyer's ID number with a wrong check character: it alone is
 * refused; the developer corrects it and sends it alone. The same batch sent again gets the same
 * batch receipt. Returns how many filings the centre received.
 */
export async function developerBatch(dev: SimulatedAgency, reg: SimulatedAgency): Promise<number> {
  const wrong = 57
  const received = filingDesk(reg, BUILDING.units)
  const prepared = await dev.client.prepareBatch(Array.from({ length: BUILDING.units }, (_, i) => filing(i + 1, i + 1 === wrong)))
  const r = await dev.client.sendPreparedBatch(prepared)
  const refused = r.results.filter((x) => 'problem' in x)
  dev.say(`sent the pre-registrations of ${BUILDING.project} building ${BUILDING.building} in one batch: ${BUILDING.units} filings, 1 request, 1 JWE of ${Math.round(prepared.body.length / 1024)} KiB; batch receipt ${r.status}: ${r.accepted} accepted, ${r.refused} refused${refused.map((x) => ` — #${x.index + 1} ${'problem' in x ? `${x.problem.code} at ${x.problem.violations?.[0]?.pointer ?? '?'} (${x.problem.violations?.[0]?.rule ?? '?'})` : ''}`).join('')}; every accepted filing's own receipt verified`)
  const again = await dev.client.sendPreparedBatch(prepared)
  dev.say(`sent the same batch again (a retry): ${again.status}, the same batch receipt byte for byte: ${again.receiptJws === r.receiptJws}; nothing stored twice`)
  const fixed = await dev.client.send(filing(wrong))
  dev.say(`corrected the buyer's ID number of flat #${wrong} and sent it alone: ${fixed.status}, receipt ${fixed.receipt.exchangeId}`)
  return within(received, 20_000, 'the centre did not receive every filing')
}
