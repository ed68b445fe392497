/**
 * Tongban client SDK: what a partner system needs to talk to the gateway — get a token,
 * build, sign and encrypt a message, send it, verify the receipt, and open the deliveries
 * the gateway POSTs to it. The demo partners and the tests use exactly this.
 */
export { TongbanClient } from './client.ts'
export type { ClientOptions, OutgoingMessage, SendResult, HttpResult, QueryAnswer, BatchItem, BatchResult, PreparedBatch } from './client.ts'
export { PartnerInbox } from './inbox.ts'
export { ATTACHMENT_TYPE } from '../core/envelope.ts'
export type { AttachmentSource } from './attachments.ts'
export type { AttachmentRef } from '../core/envelope.ts'
export { LedgerClient, FileCheckpointStore, MemoryCheckpointStore } from './ledger.ts'
export type { CheckpointStore, SeenCheckpoint, InclusionEvidence } from './ledger.ts'
export type { InboundDelivery } from './inbox.ts'
export { PublishedDirectory } from './directory.ts'
export { signElectronicCertificate, verifyElectronicCertificate } from './certificates.ts'
export type { ElectronicCertificate } from './certificates.ts'
export { TongbanClientError, CLIENT_ERRORS } from './errors.ts'
export type { ClientErrorCode } from './errors.ts'
export type { PublishedParticipant } from './directory.ts'
export { PrivateKey, PublicKey } from '../crypto/index.ts'
