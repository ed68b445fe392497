/**
 * Which SM backend the process uses. 'auto' and 'native' take the native addon and refuse
 * (ERR_SM_BACKEND) when it cannot load: the JavaScript SM2 is not constant-time, so it runs only
 * when chosen by name ('js'). The gateway chooses once at boot (config.crypto.smBackend) and logs
 * smBackendInfo(). Code that never chooses (the SDK, the CLI's JOSE tools, tests) gets the addon
 * when it loads and the JavaScript backend otherwise.
 */
import { onEventLoop, type SmBackend, type SmBackendName } from './backend.ts'
import { SmError } from './errors.ts'
import { jsBackend } from './js/backend.ts'
import { loadNative, type NativeLoad } from './native.ts'

export interface SmBackendInfo {
  readonly backend: SmBackendName
  /** Why this backend (e.g. why the native addon could not be used). */
  readonly reason: string
}

let nativeLoad: NativeLoad | undefined
let current: { backend: SmBackend; info: SmBackendInfo } | undefined

function native(): NativeLoad {
  nativeLoad ??= loadNative()
  return nativeLoad
}

/** Resolves a backend request against a native load result (pure, for tests). */
export function resolveSmBackend(name: 'auto' | SmBackendName, load: NativeLoad): { backend: SmBackend; info: SmBackendInfo } {
  if (name === 'js') return { backend: jsBackend, info: { backend: 'js', reason: 'JavaScript backend requested' } }
  if (load.backend) return { backend: load.backend, info: { backend: 'native', reason: load.reason } }
  if (name === 'native') throw new SmError('ERR_SM_BACKEND', `native SM backend requested but unavailable: ${load.reason}`)
  if (name !== 'auto') throw new SmError('ERR_SM_BACKEND', `unknown SM backend "${String(name)}" (auto, native or js)`)
  // No silent fallback: the JavaScript SM2's timing depends on the key, which a gateway serving
  // strangers must not accept by accident.
  throw new SmError('ERR_SM_BACKEND', `the native SM2 addon is unavailable (${load.reason}) and smBackend "auto" does not fall back to the variable-time JavaScript SM2: build the addon (npm ci, with python3, make and g++), or choose the JavaScript backend explicitly (crypto.smBackend "js", TONGBAN_SM_BACKEND=js)`)
}

/** The backend for code that never chose one: the addon when it loads, JavaScript otherwise. */
function unchosen(load: NativeLoad): { backend: SmBackend; info: SmBackendInfo } {
  if (load.backend) return { backend: load.backend, info: { backend: 'native', reason: load.reason } }
  return { backend: jsBackend, info: { backend: 'js', reason: `no backend chosen, and the addon is unavailable: ${load.reason}` } }
}

/**
 * Selects the backend for the process; throws ERR_SM_BACKEND when 'auto' or 'native' is requested
 * and the addon is unavailable. `thread` 'event-loop' (crypto.sm2Thread): the addon's async SM2
 * operations run on the calling thread, not on libuv's threadpool (the JavaScript backend's
 * always do).
 */
export function useSmBackend(name: 'auto' | SmBackendName, thread: 'threadpool' | 'event-loop' = 'threadpool'): SmBackendInfo {
  const chosen = resolveSmBackend(name, native())
  current = thread === 'threadpool' || chosen.backend.name !== 'native' ? chosen : {
    backend: onEventLoop(chosen.backend),
    info: { backend: 'native', reason: `${chosen.info.reason}; SM2 on the event loop (crypto.sm2Thread)` },
  }
  return current.info
}

/** The selected backend (on first use without a choice: see unchosen()). */
export function sm(): SmBackend {
  current ??= unchosen(native())
  return current.backend
}

/** Which backend is in use and why. */
export function smBackendInfo(): SmBackendInfo {
  current ??= unchosen(native())
  return current.info
}

/** Backends that can run here (tests run the same suites on each). */
export function availableSmBackends(): SmBackendName[] {
  return native().backend ? ['native', 'js'] : ['js']
}

/** A specific backend, whichever is selected (tests, benchmarks, cross-checks). */
export function smBackend(name: SmBackendName): SmBackend {
  return resolveSmBackend(name, native()).backend
}
