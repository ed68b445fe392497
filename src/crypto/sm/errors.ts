/** Stable codes of the SM module's errors; callers and tests branch on `code`, never on text. */
export type SmErrorCode =
  | 'ERR_SM_INPUT' // an argument of the wrong length or type
  | 'ERR_SM_KEY' // a key that cannot be read or is not a valid SM2 key
  | 'ERR_SM_SIGN' // signing failed (only possible with a caller-chosen k)
  | 'ERR_SM_ENCRYPT' // encryption failed (only possible with a caller-chosen k)
  | 'ERR_SM_DECRYPT' // any decryption failure, whatever its cause (no oracle)
  | 'ERR_SM_FORMAT' // a DER or ciphertext layout that cannot be converted
  | 'ERR_SM_BACKEND' // the requested backend is not available

/** An error of the SM module. */
export class SmError extends Error {
  readonly code: SmErrorCode

  constructor(code: SmErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SmError'
    this.code = code
  }
}
