import t from 'tap'
import { helpFor } from '../../src/cli/usage.ts'
import { tongban } from './helpers.ts'

// Issue 11: every CLI subcommand answers --help (and -h) with its own usage, exit 0; before, e.g.
// `tongban keys generate --help` said "Unknown option".
const COMMANDS = [
  ['serve'], ['worker'], ['demo'], ['migrate'], ['ledger', 'export'], ['ledger', 'verify'], ['evidence', 'export'], ['evidence', 'verify'],
  ['directory', 'check'], ['keys', 'gateway'], ['keys', 'generate'], ['keys', 'inspect'], ['jws', 'sign'], ['jws', 'verify'], ['jwe', 'encrypt'], ['jwe', 'decrypt'],
  ['partner', 'init'], ['operators', 'add'], ['operators', 'passwd'], ['operators', 'disable'], ['operators', 'enable'], ['operators', 'list'],
]

t.test('every subcommand has its usage for --help', async (t) => {
  for (const words of COMMANDS) {
    const text = helpFor([...words, '--help', '--out', 'x']) ?? ''
    t.ok(text.includes(`tongban ${words.join(' ')} `) || text.includes(`tongban ${words.join(' ')}\n`), `${words.join(' ')}: its usage line`)
    t.equal(helpFor([...words, '-h']), text.length > 0 ? helpFor([...words, '-h']) : undefined)
  }
  t.match(helpFor(['ledger', '--help']), /ledger export[\s\S]*ledger verify/, 'a command group lists its subcommands')
  t.equal(helpFor(['keys', 'generate', '--suite', 'national']), undefined, 'no --help: no usage')
  t.throws(() => helpFor(['nope', '--help']), { message: /unknown command "nope"/ })
})

t.test('the real command: --help exits 0 with the usage; an unknown command exits 2', async (t) => {
  const r = tongban(['keys', 'generate', '--help'])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout.toString(), /tongban keys generate --suite national\|international/)
  t.equal(tongban(['nope', '--help']).status, 2)
})
