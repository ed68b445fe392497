import { mkdirSync, readdirSync, writeFileSync, createWriteStream, existsSync } from 'node:fs'
import { join } from 'node:path'
import { once } from 'node:events'
import type { Db } from '../store/db.ts'
import { allCheckpoints, entriesInRange, fetchNodes } from '../store/ledger.ts'
import type { Ledger } from './index.ts'

/** The export's format name (ledger.json `format`). */
export const EXPORT_FORMAT = 'tongban-ledger-export@v1'

/**
 * Writes the ledger up to its latest checkpoint into `dir` (docs/ledger.md §7):
 *   ledger.json, entries.jsonl (line i: the exact bytes of leaf i), leaves.txt (line i: the leaf
 *   hash the gateway stored, base64), checkpoints/<size>.note, consistency/<from>-<to>.txt (the
 *   gateway's proof between successive checkpoints), keys/vkeys.txt and keys/<kid>.pem.
 * Returns what it wrote.
 */
export async function exportLedger(db: Db, ledger: Ledger, dir: string, at: Date): Promise<{ treeSize: number; checkpoints: number }> {
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`${dir} is not empty`)
  mkdirSync(join(dir, 'checkpoints'), { recursive: true })
  mkdirSync(join(dir, 'consistency'), { recursive: true })
  mkdirSync(join(dir, 'keys'), { recursive: true })
  const checkpoints = await allCheckpoints(db)
  const treeSize = checkpoints.at(-1)?.treeSize ?? 0

  const entries = createWriteStream(join(dir, 'entries.jsonl'))
  const leaves = createWriteStream(join(dir, 'leaves.txt'))
  const PAGE = 5_000
  // What the tables hold, as they hold it: a gap ends the export there (the verifier names it).
  let gap = false
  for (let from = 0; from < treeSize && !gap; from += PAGE) {
    const to = Math.min(treeSize, from + PAGE)
    const rows = await entriesInRange(db, from, to)
    const hashes = await fetchNodes(db, rows.map((r) => ({ level: 0, index: r.leafIndex as number })))
    for (const [i, r] of rows.entries()) {
      if (r.leafIndex !== from + i) break
      if (!entries.write(`${r.entry}\n`)) await once(entries, 'drain')
      const h = hashes.get(`0/${r.leafIndex}`)
      if (!leaves.write(`${h === undefined ? '' : h.toString('base64')}\n`)) await once(leaves, 'drain')
    }
    gap = rows.length < to - from || rows.some((r, i) => r.leafIndex !== from + i)
  }
  entries.end()
  leaves.end()
  await Promise.all([once(entries, 'close'), once(leaves, 'close')])

  let previous = 0
  for (const c of checkpoints) {
    writeFileSync(join(dir, 'checkpoints', `${c.treeSize}.note`), c.note)
    if (c.tsaToken !== null) writeFileSync(join(dir, 'checkpoints', `${c.treeSize}.tsr`), c.tsaToken)
    if (previous > 0) {
      // A proof the tree can no longer give (its nodes are gone) is left out: the verifier says so.
      const proof = await ledger.consistency(previous, c.treeSize).catch(() => undefined)
      if (proof !== undefined) writeFileSync(join(dir, 'consistency', `${previous}-${c.treeSize}.txt`), proof.map((h) => `${h.toString('base64')}\n`).join(''))
    }
    previous = c.treeSize
  }

  writeFileSync(join(dir, 'keys', 'vkeys.txt'), ledger.vkeys().map((v) => `${v}\n`).join(''))
  for (const k of ledger.signingKeys()) {
    writeFileSync(join(dir, 'keys', `${k.kid.replace(/[^A-Za-z0-9._-]/g, '_')}.pem`), k.toPem())
  }
  writeFileSync(join(dir, 'ledger.json'), `${JSON.stringify({ format: EXPORT_FORMAT, origin: ledger.origin, hashAlg: ledger.hash, treeSize, checkpoints: checkpoints.length, exportedAt: at.toISOString() }, null, 2)}\n`)
  return { treeSize, checkpoints: checkpoints.length }
}
