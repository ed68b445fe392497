// Reads a raw TAP stream on stdin and prints each failing leaf test point with the names of the
// subtests around it (file first) and the start of its diagnostic block, so that the end of a CI
// log says what failed even when only its last lines are kept.
import { createInterface } from 'node:readline'

const MAX_DIAG_LINES = 20
const open = [] // { indent, name } of each open "# Subtest:"
let pending = null // a failing point whose YAML diagnostics may follow
let printed = 0
for await (const raw of createInterface({ input: process.stdin })) {
  const line = raw.replace(/\x1b\[[0-9;]*m/g, '')
  if (pending !== null) {
    const trimmed = line.trim()
    if (pending.lines === 0 && trimmed === '---') { pending.lines = 1; pending.indent = line.indexOf('---'); continue }
    if (pending.lines > 0 && trimmed !== '...' && pending.lines <= MAX_DIAG_LINES) {
      console.log(`    ${line.slice(Math.min(pending.indent, line.length - line.trimStart().length))}`)
      pending.lines++
      continue
    }
    if (pending.lines > 0 && trimmed !== '...') continue
    pending = null
    if (trimmed === '...') continue
  }
  const m = /^(\s*)(# Subtest: ?|(not )?ok\b)(.*)$/.exec(line)
  if (!m) continue
  const indent = m[1].length
  if (m[2].startsWith('# Subtest:')) { open.push({ indent, name: m[4].trim(), printedBefore: printed }); continue }
  const closing = open.length > 0 && open[open.length - 1].indent === indent ? open.pop() : null
  if (!m[3] || /#\s*(SKIP|TODO)\b/i.test(m[4])) continue
  // A subtest's summary: printed only when none of its points was (a crash, a timeout).
  if (closing !== null && printed > closing.printedBefore) continue
  const path = open.map((s) => s.name).join(' > ')
  console.log(`not ok: ${path}${path === '' ? '' : ' > '}${m[4].replace(/^\s*\d+\s*-?\s*/, '')}`)
  pending = { lines: 0, indent: 0 }
  printed++
}
if (printed === 0) console.log('(no failing test point in the TAP stream)')
