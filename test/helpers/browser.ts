import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

/** Debian's chromium (`apt-get install -y chromium`; .ci/run installs it): no browser download works here. */
export const CHROMIUM = '/usr/bin/chromium'

export function haveChromium(): boolean {
  return existsSync(CHROMIUM)
}

/**
 * Headless Chromium driven by playwright-core with the system executable (playwright gives it a
 * fresh profile of its own) and no background networking (this machine's closed network refuses
 * it, many connections at a time).
 */
export async function launchChromium(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  })
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => {})
    },
  }
}
