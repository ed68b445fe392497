import { Directory } from '../core/directory.ts'
import { createMessageValidator } from '../core/schemas.ts'
import { ADAPTERS } from '../../adapters/index.ts'
import { UsageError } from './usage.ts'

/** `tongban directory check FILE`: validates a directory as the gateway would at boot. */
export async function directoryCommand(args: string[]): Promise<number> {
  const [sub, file] = args
  if (sub !== 'check' || file === undefined) throw new UsageError('usage: tongban directory check FILE')
  const validator = createMessageValidator()
  const dir = Directory.load(file, { adapters: ADAPTERS, knownType: (t) => validator.types().some((x) => x.type === t) })
  process.stdout.write(`${file}: ${dir.participants().length} participants, valid\n`)
  return 0
}
