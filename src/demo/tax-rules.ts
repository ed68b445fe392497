/**
 * The demo tax bureau's arithmetic for a second-hand residential transfer between individuals.
 * Simple, documented rules after the national policy outside Beijing, Shanghai, Guangzhou and
 * Shenzhen — a demonstration, not tax advice:
 *
 * - 增值税 VAT (10101), paid by the transferor: exempt when the home was held 2 years or more
 *   (acquisition date to contract date); otherwise 5 % of the price net of VAT
 *   (price ÷ 1.05 when the price includes VAT).
 * - Surcharges on VAT, transferor: 城市维护建设税 (10109) 7 %, 教育费附加 (30203) 3 %,
 *   地方教育附加 (30216) 2 % of the VAT due (not listed when no VAT is due).
 * - 个人所得税 income tax (10106), transferor: exempt when held 5 years or more and it is the
 *   family's only home (满五唯一: homesHeld 1); otherwise 20 % of the gain (net price − original
 *   cost − VAT and surcharges) when the original cost is known, else 1 % of the net price (核定征收).
 * - 契税 deed tax (10119), transferee, on the net price (财政部 税务总局 住房城乡建设部公告2024年第16号):
 *   the family's first home 1 % (≤ 140 m²) or 1.5 %; second home 1 % (≤ 140 m²) or 2 %;
 *   otherwise, and for non-residential property, 3 %.
 * - 印花税 stamp duty on individuals' housing sales is exempt and not listed.
 * - A new-build purchase (商品房买卖): only the buyer's 契税 is assessed at the registration
 *   step; the developer's taxes are settled elsewhere.
 */

export interface TaxLine {
  readonly item: '10101' | '10109' | '30203' | '30216' | '10106' | '10119'
  readonly side: 'transferor' | 'transferee'
  readonly basis: string
  readonly rate: string
  readonly due: string
  readonly relief: string
  readonly paid: string
  readonly reliefNature?: string
}

export interface TransferFacts {
  /** Yuan, 2 decimals. */
  readonly price: string
  readonly priceIncludesVat: boolean
  readonly buildingArea: string
  readonly residential: boolean
  readonly contractDate: string
  /** The transferor's acquisition, if known. */
  readonly acquisition?: { readonly date: string; readonly cost: string }
  /** Homes the transferor's family holds (1 = this is its only home). */
  readonly transferorHomes?: number
  /** Homes the transferee's family will hold, this one included. */
  readonly transfereeHomes?: number
  /** A new-build purchase: the buyer's deed tax only. */
  readonly newBuild?: boolean
}

export interface Assessment {
  readonly assessedPrice: string
  readonly items: readonly TaxLine[]
  readonly totals: { readonly due: string; readonly relief: string; readonly paid: string }
}

/** Tax item names, for printing. */
export const TAX_ITEM_NAMES: Readonly<Record<TaxLine['item'], string>> = {
  '10101': '增值税 VAT',
  '10109': '城市维护建设税 city construction',
  '30203': '教育费附加 education surcharge',
  '30216': '地方教育附加 local education surcharge',
  '10106': '个人所得税 income tax',
  '10119': '契税 deed tax',
}

// Money is kept in integer fen (cents) so that every sum is exact.
const fen = (yuan: string): bigint => {
  const [i, f = ''] = yuan.split('.')
  return BigInt(i ?? '0') * 100n + BigInt((f + '00').slice(0, 2))
}
const yuan = (v: bigint): string => `${v / 100n}.${String(v % 100n).padStart(2, '0')}`
/** rate as [numerator, denominator]; rounds half up to the fen. */
const times = (base: bigint, [n, d]: readonly [bigint, bigint]): bigint => (base * n * 2n + d) / (2n * d)
const rateText = ([n, d]: readonly [bigint, bigint]): string => String(Number(n) / Number(d))

function yearsHeld(from: string, to: string): number {
  const a = new Date(`${from}T00:00:00Z`)
  const b = new Date(`${to}T00:00:00Z`)
  let years = b.getUTCFullYear() - a.getUTCFullYear()
  if (b.getUTCMonth() < a.getUTCMonth() || (b.getUTCMonth() === a.getUTCMonth() && b.getUTCDate() < a.getUTCDate())) years--
  return years
}

/** Assesses the taxes of a transfer by the rules above. */
export function assessTransfer(f: TransferFacts): Assessment {
  const price = fen(f.price)
  const held = f.acquisition ? yearsHeld(f.acquisition.date, f.contractDate) : 0
  const items: TaxLine[] = []
  const line = (item: TaxLine['item'], side: TaxLine['side'], basis: bigint, rate: readonly [bigint, bigint], exempt?: string): bigint => {
    const due = times(basis, rate)
    const relief = exempt ? due : 0n
    items.push({ item, side, basis: yuan(basis), rate: rateText(rate), due: yuan(due), relief: yuan(relief), paid: yuan(due - relief), ...(exempt ? { reliefNature: exempt } : {}) })
    return due - relief
  }

  // Net of VAT: the basis of every tax below.
  const net = f.priceIncludesVat && (held < 2 || f.newBuild) ? (price * 100n * 2n + 105n) / (105n * 2n) : price
  if (f.newBuild) {
    line('10119', 'transferee', net, deedRate(f))
    return summary(net, items)
  }
  const vat = line('10101', 'transferor', net, [5n, 100n], held >= 2 ? '个人销售住房满2年免征增值税' : undefined)
  // Surcharges are levied on the VAT actually due: none when it is exempt.
  const surcharges = vat === 0n ? 0n : line('10109', 'transferor', vat, [7n, 100n]) + line('30203', 'transferor', vat, [3n, 100n]) + line('30216', 'transferor', vat, [2n, 100n])

  const onlyHomeFiveYears = held >= 5 && f.transferorHomes === 1
  if (f.acquisition) {
    const gain = net - fen(f.acquisition.cost) - vat - surcharges
    line('10106', 'transferor', gain > 0n ? gain : 0n, [20n, 100n], onlyHomeFiveYears ? '个人转让自用5年以上家庭唯一生活用房免征' : undefined)
  } else {
    line('10106', 'transferor', net, [1n, 100n], onlyHomeFiveYears ? '个人转让自用5年以上家庭唯一生活用房免征' : undefined)
  }

  line('10119', 'transferee', net, deedRate(f))
  return summary(net, items)
}

function deedRate(f: TransferFacts): readonly [bigint, bigint] {
  const large = Number(f.buildingArea) > 140
  const homes = f.transfereeHomes ?? 3
  if (!f.residential || homes >= 3) return [3n, 100n]
  if (homes === 1) return large ? [15n, 1000n] : [1n, 100n]
  return large ? [2n, 100n] : [1n, 100n]
}

function summary(net: bigint, items: TaxLine[]): Assessment {
  const sum = (k: 'due' | 'relief' | 'paid'): string => yuan(items.reduce((a, x) => a + fen(x[k]), 0n))
  return { assessedPrice: yuan(net), items, totals: { due: sum('due'), relief: sum('relief'), paid: sum('paid') } }
}
