// Rewrites the two "By route" tables of docs/errors.md from src/inbound/route-errors.ts
// (test/gateway/route-errors.test.ts fails while they differ). Run: npm run docs:errors
import { readFileSync, writeFileSync } from 'node:fs'
import { withErrorTables } from '../src/inbound/route-errors.ts'

const file = new URL('../docs/errors.md', import.meta.url)
writeFileSync(file, withErrorTables(readFileSync(file, 'utf8')))
console.log('docs/errors.md: route tables written')
