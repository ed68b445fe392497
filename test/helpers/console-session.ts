import { hotp, totpStep } from '../../src/crypto/index.ts'

/** A console session as a browser holds it: its cookie and a CSRF token of its forms. */
export interface ConsoleSession {
  readonly cookie: string
  readonly csrf: string
}

const FORM = 'application/x-www-form-urlencoded'

/** The console's session cookie an answer sets, if it sets one. */
export const cookieOf = (r: Response): string | undefined => r.headers.getSetCookie().map((c) => c.split(';')[0] as string).find((c) => c.startsWith('tongban-console='))
/** The CSRF token of a page's forms. */
export const csrfOf = (page: string): string => /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? ''
/** The current TOTP code of a secret. */
export const codeOf = (secret: Buffer): string => hotp(secret, BigInt(totpStep(new Date())))

/** The log-in page's session at `base` (the console's URL): a CSRF token, no operator in it. */
export async function anonymousSession(base: string): Promise<ConsoleSession> {
  const page = await fetch(`${base}/login`, { redirect: 'manual' })
  const cookie = cookieOf(page)
  if (cookie === undefined) throw new Error('the log-in page set no session cookie')
  return { cookie, csrf: csrfOf(await page.text()) }
}

/** A log-in as the form sends it, from a fresh log-in page. */
export async function logIn(base: string, username: string, password: string, code: string): Promise<Response> {
  const s = await anonymousSession(base)
  return fetch(`${base}/login`, {
    method: 'POST', redirect: 'manual', headers: { cookie: s.cookie, 'content-type': FORM },
    body: new URLSearchParams({ _csrf: s.csrf, username, password, code, next: '/overview' }).toString(),
  })
}

/** Signs in an account whose TOTP secret is known: its session, with the CSRF token of its overview page. */
export async function signIn(base: string, username: string, password: string, totpSecret: Buffer): Promise<ConsoleSession> {
  const r = await logIn(base, username, password, codeOf(totpSecret))
  await r.arrayBuffer()
  const cookie = cookieOf(r)
  if (r.status !== 303 || cookie === undefined) throw new Error(`${username} could not sign in (${r.status})`)
  const page = await fetch(`${base}/overview`, { headers: { cookie } })
  if (page.status !== 200) throw new Error(`${username}'s overview: ${page.status}`)
  return { cookie, csrf: csrfOf(await page.text()) }
}
