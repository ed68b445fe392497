import type { PartnerAdapter } from '../src/outbound/adapter.ts'
import { nativeAdapter } from './native/index.ts'

/** Every adapter the gateway can use, by the name the directory gives (its folder name). */
export const ADAPTERS: ReadonlyMap<string, PartnerAdapter> = new Map([[nativeAdapter.name, nativeAdapter]])
