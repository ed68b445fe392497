import type { ChildProcess } from 'node:child_process'
import { constants } from 'node:os'

/**
 * The processes a test or a benchmark starts (gateways, workers, redis-servers) end with it. On
 * any exit of this process they get SIGKILL; outside tap (a benchmark), a SIGINT, SIGTERM or SIGHUP
 * first kills them, then ends this process as the signal would have. Without it a benchmark
 * interrupted by a signal left its gateways running, idle but holding connections and timers,
 * and the next runs measured the machine with them.
 */
const alive = new Set<ChildProcess>()
let installed = false

function killAll(): void {
  for (const c of alive) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
}

export function adopt<C extends ChildProcess>(child: C): C {
  alive.add(child)
  child.once('exit', () => alive.delete(child))
  if (!installed) {
    installed = true
    process.once('exit', killAll)
    // Under tap the runner ends its test processes itself and reports on them: its signals stay its own.
    if (process.env.TAP === undefined) {
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
        process.once(sig, () => {
          killAll()
          process.exit(128 + constants.signals[sig])
        })
      }
    }
  }
  return child
}
