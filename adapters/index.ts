import type { PartnerAdapter } from '../src/outbound/adapter.ts'
import { legacyTaxAdapter } from './legacy-tax/index.ts'
import { nativeAdapter } from './native/index.ts'

/** Every adapter the gateway can use, by the name the directory gives (its folder name). */
export const ADAPTERS: ReadonlyMap<string, PartnerAdapter> = new Map([
  [nativeAdapter.name, nativeAdapter],
  [legacyTaxAdapter.name, legacyTaxAdapter],
])
