const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** The same bytes as `part`, written with a bit set after its last byte (a lenient decoder reads both alike). */
export function sameBytesOtherText(part: string): string {
  const bytes = Buffer.from(part, 'base64url')
  for (const c of ALPHABET) {
    const other = `${part.slice(0, -1)}${c}`
    if (other !== part && Buffer.from(other, 'base64url').equals(bytes)) return other
  }
  throw new Error(`${part.length} characters leave no spare bit`)
}
