import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'

/** A fault in one CIDR of a list, by its index. */
export interface CidrProblem {
  readonly index: number
  readonly message: string
}

/**
 * A set of IPv4 and IPv6 address ranges given as CIDRs ("10.1.0.0/16", "::1/128"; a bare
 * address is one host), matched with node:net's BlockList. An IPv4-mapped IPv6 address
 * (`::ffff:127.0.0.1`, what a dual-stack socket reports) matches the IPv4 ranges.
 */
export class AddressSet {
  /** The CIDRs as given (for logs and tools). */
  readonly cidrs: readonly string[]
  readonly #list: BlockList

  private constructor(cidrs: readonly string[], list: BlockList) {
    this.cidrs = Object.freeze([...cidrs])
    this.#list = list
  }

  /** Parses a list of CIDRs; every bad entry is reported, and the set holds the good ones. */
  static parse(cidrs: readonly string[]): { set: AddressSet; problems: CidrProblem[] } {
    const list = new BlockList()
    const problems: CidrProblem[] = []
    cidrs.forEach((cidr, index) => {
      const slash = cidr.indexOf('/')
      const address = slash < 0 ? cidr : cidr.slice(0, slash)
      const family = isIP(address)
      if (family === 0) {
        problems.push({ index, message: 'not an IPv4 or IPv6 address (write a CIDR such as 10.1.0.0/16 or fd00::/8)' })
        return
      }
      const max = family === 4 ? 32 : 128
      const prefixText = slash < 0 ? String(max) : cidr.slice(slash + 1)
      const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN
      if (!(prefix >= 0 && prefix <= max)) {
        problems.push({ index, message: `the prefix length of an IPv${family} CIDR is 0 to ${max}` })
        return
      }
      list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6')
    })
    return { set: new AddressSet(cidrs, list), problems }
  }

  /** Whether `address` (as request.ip or a socket gives it) lies in one of the ranges. */
  contains(address: string | undefined): boolean {
    // No address (the socket is already gone): nothing is trusted.
    if (typeof address !== 'string') return false
    // A zone index (fe80::1%eth0) is not part of the address.
    const bare = address.includes('%') ? address.slice(0, address.indexOf('%')) : address
    const family = isIP(bare)
    if (family === 0) return false
    const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare)
    if (mapped !== null) return this.#list.check(mapped[1] as string, 'ipv4') || this.#list.check(bare, 'ipv6')
    return this.#list.check(bare, family === 4 ? 'ipv4' : 'ipv6')
  }
}

/**
 * Whether the host of `url` lies in `set`: an address literal is checked as is, a name by every
 * address it resolves to (all must lie in the set). For answers the gateway reads on a
 * connection it opened itself, where there is no request.ip to check.
 */
export async function hostWithin(set: AddressSet, url: string | undefined): Promise<boolean> {
  if (url === undefined) return false
  let host: string
  try {
    host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1')
  } catch {
    return false
  }
  if (isIP(host) !== 0) return set.contains(host)
  const addresses = await lookup(host, { all: true }).catch(() => [])
  return addresses.length > 0 && addresses.every((a) => set.contains(a.address))
}
