/**
 * `npm run bench:sm2-count`: the instructions each SM2 point multiplication takes, counted by
 * valgrind's callgrind (repeatable on one machine, whatever else it is doing, unlike timings on a
 * shared 2-core machine): the addon's sm2_p256.c against OpenSSL's EC_POINT_mul on NID_sm2, both
 * compiled here into one program (bench/native/sm2-count.c, gcc -O2, the system's OpenSSL 3).
 * Each figure is (count for 100 operations − count for none) / 100, so start-up and table
 * building at load drop out; a known key's table is built once within the 100.
 *
 * Needs gcc, valgrind and OpenSSL's headers (libssl-dev). Prints a table and one JSON line.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const N = 100
const dir = mkdtempSync(join(tmpdir(), 'tongban-sm2-count-'))
const exe = join(dir, 'sm2-count')
try {
  if (!existsSync('/usr/include/openssl/ec.h')) throw new Error('OpenSSL headers are missing (apt-get install -y libssl-dev)')
  const cc = spawnSync('gcc', ['-O2', '-I', 'src/crypto/sm/native', 'bench/native/sm2-count.c', 'src/crypto/sm/native/sm2_p256.c', '-lcrypto', '-lpthread', '-o', exe], { encoding: 'utf8' })
  if (cc.status !== 0) throw new Error(`gcc failed: ${cc.stderr || cc.error?.message}`)
  const count = (impl: string, what: string, n: number): number => {
    const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', exe, impl, what, String(n)], { encoding: 'utf8' })
    const m = /Collected : (\d+)/.exec(r.stderr ?? '')
    if (r.status !== 0 || !m) throw new Error(`valgrind ${impl} ${what} failed: ${r.stderr || r.error?.message}`)
    return Number(m[1])
  }
  const perOp = (impl: string, what: string): number => Math.round((count(impl, what, N) - count(impl, what, 0)) / N)
  const ops = [
    ['base', 'k·G (a signature, an encryption\'s C1)'],
    ['point', 'k·P, P new (a decryption\'s d·C1)'],
    ['known', 'k·P, P known (an encryption to a partner)'],
    ['verify', 's·G + t·P, P known (a verification)'],
  ] as const
  const rows = ops.map(([what, label]) => ({ what, label, ours: perOp('ours', what), openssl: perOp('openssl', what) }))
  const fmt = (v: number): string => `${(v / 1e6).toFixed(2)}M`
  console.log(`instructions per operation (valgrind callgrind, ${N} operations less none)\n`)
  console.log(`${'operation'.padEnd(44)}${'sm2_p256.c'.padStart(12)}${'OpenSSL'.padStart(12)}${'ratio'.padStart(8)}`)
  for (const r of rows) console.log(`${r.label.padEnd(44)}${fmt(r.ours).padStart(12)}${fmt(r.openssl).padStart(12)}${(r.openssl / r.ours).toFixed(2).padStart(8)}`)
  const by = (impl: 'ours' | 'openssl', ...names: string[]): number => names.reduce((n, w) => n + (rows.find((r) => r.what === w)?.[impl] ?? 0), 0)
  // An accepted national message: its JWE decrypted (d·C1), its JWS verified, the receipt signed (k·G).
  const accept = { ours: by('ours', 'point', 'verify', 'base'), openssl: by('openssl', 'point', 'verify', 'base') }
  // A delivery: the message encrypted to the recipient (C1 = k·G, then k·P for its known key).
  const deliver = { ours: by('ours', 'base', 'known'), openssl: by('openssl', 'base', 'known') }
  console.log(`\nper accepted message (decrypt + verify + sign): ${fmt(accept.ours)} against ${fmt(accept.openssl)}, ${(accept.openssl / accept.ours).toFixed(2)}× fewer`)
  console.log(`per delivery (encrypt to the recipient): ${fmt(deliver.ours)} against ${fmt(deliver.openssl)}, ${(deliver.openssl / deliver.ours).toFixed(2)}× fewer`)
  console.log(JSON.stringify({ instructions: Object.fromEntries(rows.map((r) => [r.what, { ours: r.ours, openssl: r.openssl }])), acceptRatio: Math.round((accept.openssl / accept.ours) * 100) / 100, deliverRatio: Math.round((deliver.openssl / deliver.ours) * 100) / 100 }))
} finally {
  rmSync(dir, { recursive: true, force: true })
}
