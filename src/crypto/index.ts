/**
 * The crypto room's public entry point: the only module other rooms import for keys,
 * signatures, encryption, digests and sealing. Key material never leaves this room except
 * as opaque PublicKey / PrivateKey handles.
 */
export { PublicKey, PrivateKey, suiteOfAlg } from './keys.ts'
export type { KeyKind, Suite, JwsAlg, JweAlg } from './keys.ts'
export { CTY_JWS, parseJws, parseJweHeader, suiteOf, verifyJws, signJws, encryptJwe, decryptJwe, decryptJweWithAny } from './jose.ts'
export type { JoseHeader, ParsedJws } from './jose.ts'
export { digestHex, digestAlg, hmacHex } from './digest.ts'
export { GatewayKeyring, GATEWAY_KEY_FILES } from './keyring.ts'
export type { GatewayPublicKeys } from './keyring.ts'
export type { Sealer } from './seal.ts'
export { smBackendInfo, useSmBackend } from './sm/index.ts'
export { PkiError, TrustStore } from './pki.ts'
export type { CertificateInfo, KeyReading, KeyState, KeyUse, PkiSettings } from './pki.ts'
export { SAMPLE_KEYS } from './sample-keys.ts'
export { signDetached, verifyDetached, publicKeyDer, publicKeyFromDer, treeHash } from './detached.ts'
export type { TreeHash } from './detached.ts'
export { timeStampRequest, timeStampToken, verifyTimeStampToken, tsaAnchors } from './tsa.ts'
export type { TimeStamp } from './tsa.ts'
export type { Certificate } from './x509.ts'
export { hashPassword, verifyPassword, passwordFault, spendPasswordTime } from './passwords.ts'
export { newTotpSecret, base32, fromBase32, totpStep, checkTotp, otpauthUri, hotp } from './totp.ts'
export { tlsCredentials } from './tls.ts'
export { certificateRequest } from './csr.ts'
export { AttachmentWriter, readAttachment, newDigest, ATTACHMENT_MAGIC, CTY_ATTACHMENT_KEY, RECORD_BYTES } from './attachment.ts'
export type { AttachmentPart, AttachmentReading } from './attachment.ts'
