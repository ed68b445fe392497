import { TongbanError } from '../errors.ts'

/** DESIGN §4: `iat` (of a message, or of a batch) must be within ±window seconds of the gateway clock. */
export function checkIat(env: { readonly iat: number }, now: Date, windowSeconds: number): void {
  if (Math.abs(now.getTime() / 1000 - env.iat) > windowSeconds) {
    throw new TongbanError('TB_ERR_IAT_WINDOW', `iat must be within ±${windowSeconds} s of the gateway clock`, {
      detail: { gatewayTime: Math.floor(now.getTime() / 1000), windowSeconds },
    })
  }
}
