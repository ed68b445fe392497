/**
 * Which SM backend the process uses. 'auto' takes the native addon when it loads and the
 * JavaScript backend otherwise; 'native' insists on the addon. The gateway chooses once at boot
 * (config.crypto.smBackend) and logs smBackendInfo().
 */
import type { SmBackend, SmBackendName } from './backend.ts'
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
  return { backend: jsBackend, info: { backend: 'js', reason: `JavaScript fallback: ${load.reason}` } }
}

/** Selects the backend for the process; throws ERR_SM_BACKEND when 'native' is requested but unavailable. */
export function useSmBackend(name: 'auto' | SmBackendName): SmBackendInfo {
  current = resolveSmBackend(name, native())
  return current.info
}

/** The selected backend (auto-selected on first use). */
export function sm(): SmBackend {
  if (!current) useSmBackend('auto')
  return (current as { backend: SmBackend }).backend
}

/** Which backend is in use and why. */
export function smBackendInfo(): SmBackendInfo {
  if (!current) useSmBackend('auto')
  return (current as { info: SmBackendInfo }).info
}

/** Backends that can run here (tests run the same suites on each). */
export function availableSmBackends(): SmBackendName[] {
  return native().backend ? ['native', 'js'] : ['js']
}

/** A specific backend, whichever is selected (tests, benchmarks, cross-checks). */
export function smBackend(name: SmBackendName): SmBackend {
  return resolveSmBackend(name, native()).backend
}
