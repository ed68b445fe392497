import { readFileSync } from 'node:fs'
import { createPrivateKey, X509Certificate } from 'node:crypto'

/**
 * A TLS server's credentials from PEM files (the operator console's listener), checked at load:
 * the certificate parses and the key is its own — a mismatch fails at start, not at the first
 * handshake.
 */
export function tlsCredentials(certFile: string, keyFile: string): { cert: Buffer; key: Buffer } {
  const cert = readFileSync(certFile)
  const key = readFileSync(keyFile)
  const x509 = new X509Certificate(cert)
  if (!x509.checkPrivateKey(createPrivateKey(key))) throw new Error(`${keyFile} is not the private key of ${certFile}`)
  return { cert, key }
}
