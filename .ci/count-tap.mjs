// Reads a raw TAP stream on stdin and prints "<passed> <failed>" counting leaf test points.
import { createInterface } from 'node:readline'

const open = [] // indentation of each open "# Subtest:"
let passed = 0
let failed = 0
for await (const raw of createInterface({ input: process.stdin })) {
  const line = raw.replace(/\x1b\[[0-9;]*m/g, '')
  const m = /^(\s*)(# Subtest:|(not )?ok\b)(.*)$/.exec(line)
  if (!m) continue
  const indent = m[1].length
  if (m[2] === '# Subtest:') { open.push(indent); continue }
  if (open.length > 0 && open[open.length - 1] === indent) { open.pop(); continue }
  if (/#\s*(SKIP|TODO)\b/i.test(m[4])) continue
  if (m[3]) failed++
  else passed++
}
console.log(`${passed} ${failed}`)
