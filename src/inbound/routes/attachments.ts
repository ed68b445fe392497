import { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { ATTACHMENT_TYPE } from '../../core/envelope.ts'
import { TongbanError } from '../../errors.ts'
import { UUID_RE } from '../../util/ids.ts'
import { participantOf, requireCaller } from '../auth.ts'
import { participantRateLimit } from '../quotas.ts'
import { answers, AttachmentInfo, AttachmentStream } from '../responses.ts'

/**
 * POST /v1/attachments (an upload: the stream encrypted to the gateway, read record by record,
 * never held whole) and GET /v1/attachments/:id (the stream encrypted to the reader). Uploads
 * count against the sender's messagesPerMinute, like messages.
 */
export async function attachmentRoutes(app: FastifyInstance): Promise<void> {
  // The body goes to the service as a stream: its size is bounded by the declared size
  // (attachments.maxBytes), checked as the records arrive, not by a buffer here.
  app.addContentTypeParser(ATTACHMENT_TYPE, (_request, payload, done) => done(null, payload))
  const quota = participantRateLimit(app.tb.config, 'messagesPerMinute', 'messages')

  app.post('/v1/attachments', { schema: { response: answers({ 201: AttachmentInfo }) }, onRequest: requireCaller, config: { rateLimit: quota } }, async (request, reply) => {
    const owner = participantOf(request)
    const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
    if (type !== ATTACHMENT_TYPE || !(request.body instanceof Readable)) throw new TongbanError('TB_ERR_CONTENT_TYPE', `send the body as ${ATTACHMENT_TYPE}`)
    try {
      const stored = await app.tb.attachments.upload(request.body, owner)
      app.tb.metrics.attachmentBytes.inc({ direction: 'in' }, stored.size)
      return await reply.code(201).send(stored)
    } catch (err) {
      // Refused part-way, the rest of the upload is still on its way: answer, then close the
      // connection rather than read up to attachments.maxBytes of it for nothing.
      void reply.header('connection', 'close')
      throw err
    }
  })

  app.get<{ Params: { id: string } }>('/v1/attachments/:id', { schema: { response: answers({ 200: AttachmentStream }) }, onRequest: requireCaller }, async (request, reply) => {
    const id = request.params.id
    const reader = participantOf(request)
    if (!UUID_RE.test(id)) throw new TongbanError('TB_ERR_NOT_FOUND', 'no such attachment visible to you')
    const { info, stream } = await app.tb.attachments.read(id, reader)
    // On record before a byte leaves (the personal-data access log): scanned materials are personal data.
    await app.tb.ledger.write('case.read', { reader: reader.id, what: 'attachment', ref: id })
    reply.raw.once('finish', () => app.tb.metrics.attachmentBytes.inc({ direction: 'out' }, info.size))
    return reply
      .type(ATTACHMENT_TYPE)
      .header('tongban-attachment-digest', `${info.digestAlg}=${info.digest}`)
      .header('tongban-attachment-size', String(info.size))
      .send(Readable.from(stream, { objectMode: false }))
  })
}
