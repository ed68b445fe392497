import { TongbanError } from '../errors.ts'
import type { Envelope } from './envelope.ts'
import { combineViolations, envelopeViolations, ruleFor, type MessageTypeRule } from './message-types.ts'
import type { MessageValidator } from './schemas.ts'

/**
 * The content checks every message and query passes: a known type and version, of the kind
 * the endpoint takes (async messages at /v1/messages, sync queries at /v1/queries), a body that
 * matches its schema, and the envelope fields and cross-field rules the type requires.
 */
export function checkContent(env: Envelope, validator: MessageValidator, kind: 'async' | 'sync'): MessageTypeRule {
  const rule = ruleFor(env.type)
  if (rule === undefined || !validator.hasType(env.type, env.v)) {
    throw new TongbanError('TB_ERR_TYPE_UNKNOWN', `unknown message type ${env.type} v${env.v}`, { detail: { messageType: env.type, v: env.v } })
  }
  if (rule.kind !== kind) {
    const where = rule.kind === 'sync' ? 'a synchronous query: POST it to /v1/queries' : 'not a query: POST it to /v1/messages'
    throw new TongbanError('TB_ERR_TYPE_UNKNOWN', `${env.type} is ${where}`, { detail: { messageType: env.type } })
  }
  const body = validator.validateBody(env.type, env.v, env.body)
  const violations = combineViolations(body.ok ? [] : body.violations, envelopeViolations(env, rule))
  if (violations.length > 0) throw new TongbanError('TB_ERR_SCHEMA', 'the message does not match its schema', { violations })
  return rule
}
