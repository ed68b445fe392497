import { readFileSync } from 'node:fs'
import { request } from 'undici'
import { timeStampRequest, timeStampToken, tsaAnchors, verifyTimeStampToken } from '../crypto/index.ts'

/**
 * A client of an RFC 3161 time-stamping authority: POSTs a request for `note` (SHA-256 imprint)
 * and returns the token. With `caFile`, a token the TSA's CA does not vouch for is refused here.
 */
export function tsaClient(url: string, caFile: string | undefined, timeoutMs = 10_000): (note: string) => Promise<Buffer> {
  const anchors = caFile === undefined ? undefined : tsaAnchors(readFileSync(caFile))
  return async (note) => {
    const bytes = Buffer.from(note, 'utf8')
    const res = await request(url, {
      method: 'POST', body: timeStampRequest(bytes), headers: { 'content-type': 'application/timestamp-query' },
      headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
    })
    const body = Buffer.from(await res.body.arrayBuffer())
    if (res.statusCode !== 200) throw new Error(`the TSA answered ${res.statusCode}`)
    const token = timeStampToken(body)
    verifyTimeStampToken(token, bytes, anchors)
    return token
  }
}
