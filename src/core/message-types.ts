import type { Violation } from '../errors.ts'
import type { Role } from './roles.ts'

/** How the recipients of a message are found. */
export type RouteKind =
  /** `to`, or the agency of the first `to` role serving the unit code's division (属地). */
  | 'division'
  /** The participant that opened the step this message answers. */
  | 'step-requester'
  /** Every participant of the case whose role is allowed (fan-out). */
  | 'case-participants'
  /** The registration centre that owns the case (an application on a case goes to its owner only). */
  | 'case-owner'
  /** The participant named in `to`, which the envelope must give (e.g. a certificate's issuer). */
  | 'named'
  /** The utility company (UTILITY) of the body's `/service` responsible for the unit's division; only on a case whose applicants opted in to it. */
  | 'utility'

export interface StepEffect {
  /** Opens a step of this kind, answered by the recipient. */
  readonly open?: string
  /**
   * Closes the open step of this kind with an outcome: `rejectedWhen` makes it `rejected` when
   * the body's string at `pointer` is `value` (one type answering either way).
   */
  readonly close?: {
    readonly kind: string
    readonly outcome: 'completed' | 'rejected'
    readonly rejectedWhen?: { readonly pointer: string; readonly value: string }
    /** Closes the step only when the body's string at `pointer` is `value`; otherwise it answers it (to its requester) and leaves it open. */
    readonly onlyWhen?: { readonly pointer: string; readonly value: string }
  }
  /** The step's kind is `<kind>:<service>`, the body's `/service`: one step per utility on a case. */
  readonly perService?: boolean
  /**
   * The opened step's deadline variant: when the body's value at `pointer` is `equals`, the step
   * is due after `deadlines.hours["<kind>.<name>"]` hours if that is set (Suihua's one-hour
   * promise for a plain transfer), else after its working days.
   */
  readonly variant?: { readonly pointer: string; readonly equals: unknown; readonly name: string }
}

/** What the gateway knows about each message type beyond its body schema. */
export interface MessageTypeRule {
  readonly type: string
  readonly kind: 'async' | 'sync'
  /** The roles that may send it (a provident fund centre lends like a bank). */
  readonly from: readonly Role[]
  readonly to: readonly Role[]
  readonly route: RouteKind
  readonly needs: { readonly caseId: boolean; readonly unitCode: boolean }
  readonly step?: StepEffect
  /** Where the body repeats the unit code (a JSON pointer into the body): it must equal the envelope's. */
  readonly bodyUnitCode?: string
  /** An application to the case's owner, by which a party that is not on the case joins it (pending until answered). */
  readonly joinsCase?: boolean
  /** The sender must serve the unit's division (属地: a housing bureau files only for units of its divisions). */
  readonly senderServesUnit?: boolean
  /**
   * A court may open a new case with this type, in its own namespace (a `J` serial, one of its
   * divisions: formats.ts caseIdIssuer). A registration centre may open a case with any of its
   * types; other roles never open one.
   */
  readonly courtOpensCase?: boolean
  /** The body may carry the issuer's signed electronic certificate of this kind (e-certificates.ts), checked at acceptance. */
  readonly certifies?: 'mortgage' | 'title'
  /** Where the body names the sender's own case to link with this one (a home case of a cross-region application). */
  readonly linksCase?: string
  /** Only on a case linked to its home case (an application the home centre accepted). */
  readonly needsLink?: boolean
  /** Where the body repeats the sender's credit code (a JSON pointer into the body): it must be the CODE of `from`. */
  readonly bodySenderCode?: string
}

const RULES: readonly MessageTypeRule[] = [
  { type: 'tax.assessment.request', kind: 'async', from: ['REG'], to: ['TAX'], route: 'division', needs: { caseId: true, unitCode: true }, step: { open: 'tax' }, bodyUnitCode: '/property/unitCode', senderServesUnit: true },
  { type: 'tax.payment.completed', kind: 'async', from: ['TAX'], to: ['REG'], route: 'step-requester', needs: { caseId: true, unitCode: true }, step: { close: { kind: 'tax', outcome: 'completed' } } },
  { type: 'tax.assessment.rejected', kind: 'async', from: ['TAX'], to: ['REG'], route: 'step-requester', needs: { caseId: true, unitCode: true }, step: { close: { kind: 'tax', outcome: 'rejected' } } },
  { type: 'housing.contract.filed', kind: 'async', from: ['HOUSING'], to: ['REG'], route: 'division', needs: { caseId: false, unitCode: true }, bodyUnitCode: '/house/unitCode', senderServesUnit: true },
  { type: 'mortgage.query', kind: 'sync', from: ['BANK', 'FUND'], to: ['REG'], route: 'division', needs: { caseId: false, unitCode: false }, bodyUnitCode: '/unitCode' },
  { type: 'mortgage.registration.request', kind: 'async', from: ['BANK', 'FUND'], to: ['REG'], route: 'case-owner', needs: { caseId: true, unitCode: true }, step: { open: 'mortgage' }, bodyUnitCode: '/property/unitCode', joinsCase: true },
  { type: 'mortgage.registration.completed', kind: 'async', from: ['REG'], to: ['BANK', 'FUND'], route: 'step-requester', needs: { caseId: true, unitCode: true }, step: { close: { kind: 'mortgage', outcome: 'completed' } }, certifies: 'mortgage' },
  { type: 'mortgage.registration.rejected', kind: 'async', from: ['REG'], to: ['BANK', 'FUND'], route: 'step-requester', needs: { caseId: true, unitCode: true }, step: { close: { kind: 'mortgage', outcome: 'rejected' } } },
  { type: 'preregistration.completed', kind: 'async', from: ['REG'], to: ['BANK', 'FUND', 'TAX'], route: 'case-participants', needs: { caseId: true, unitCode: true } },
  { type: 'registration.completed', kind: 'async', from: ['REG'], to: ['TAX', 'BANK', 'FUND', 'HOUSING'], route: 'case-participants', needs: { caseId: true, unitCode: true }, certifies: 'title' },
  // Courts (在线查封/解封): a seizure opens the court's case and its seizure step at the registration
  // centre of the unit's division; a release, on the same case, opens the release step.
  { type: 'judicial.seizure.request', kind: 'async', from: ['COURT'], to: ['REG'], route: 'division', needs: { caseId: true, unitCode: true }, step: { open: 'seizure' }, bodyUnitCode: '/property/unitCode', courtOpensCase: true },
  { type: 'judicial.seizure.completed', kind: 'async', from: ['REG'], to: ['COURT'], route: 'step-requester', needs: { caseId: true, unitCode: true }, step: { close: { kind: 'seizure', outcome: 'completed' } } },
  { type: 'judicial.seizure.rejected', kind: 'async', from: ['REG'], to: ['COURT'], route: 'step-requester', needs: { caseId: true, unitCode: true }, step: { close: { kind: 'seizure', outcome: 'rejected' } } },
  { type: 'judicial.release.request', kind: 'async', from: ['COURT'], to: ['REG'], route: 'division', needs: { caseId: true, unitCode: true }, step: { open: 'release' }, bodyUnitCode: '/property/unitCode' },
  { type: 'judicial.release.completed', kind: 'async', from: ['REG'], to: ['COURT'], route: 'step-requester', needs: { caseId: true, unitCode: true }, step: { close: { kind: 'release', outcome: 'completed' } } },
  { type: 'judicial.release.rejected', kind: 'async', from: ['REG'], to: ['COURT'], route: 'step-requester', needs: { caseId: true, unitCode: true }, step: { close: { kind: 'release', outcome: 'rejected' } } },
  // 电子证照查验: a lender or a court asks the centre that issued a certificate whether it stands.
  { type: 'certificate.verify', kind: 'sync', from: ['BANK', 'FUND', 'COURT'], to: ['REG'], route: 'named', needs: { caseId: false, unitCode: false } },
  // 异地申请·属地审核·远程打印: the centre where the applicants stand forwards the application to the
  // centre of the unit's division, which examines it (accepted into a case of its own, linked, or
  // returned), enters it in its register and sends the certificate back to be printed there. The
  // cross-region step runs from the forwarding to the certificate's return (the whole transfer).
  { type: 'registration.application.forwarded', kind: 'async', from: ['REG'], to: ['REG'], route: 'division', needs: { caseId: true, unitCode: true }, step: { open: 'cross-region', variant: { pointer: '/plainTransfer', equals: true, name: 'plain' } }, bodyUnitCode: '/property/unitCode' },
  { type: 'registration.application.examined', kind: 'async', from: ['REG'], to: ['REG'], route: 'step-requester', needs: { caseId: true, unitCode: true }, step: { close: { kind: 'cross-region', outcome: 'rejected', onlyWhen: { pointer: '/result', value: 'returned' } } }, linksCase: '/homeCaseId' },
  { type: 'certificate.print.request', kind: 'async', from: ['REG'], to: ['REG'], route: 'step-requester', needs: { caseId: true, unitCode: true }, step: { close: { kind: 'cross-region', outcome: 'completed' }, open: 'print' }, bodyUnitCode: '/unitCode', certifies: 'title', needsLink: true },
  { type: 'certificate.printed', kind: 'async', from: ['REG'], to: ['REG'], route: 'step-requester', needs: { caseId: true, unitCode: true }, step: { close: { kind: 'print', outcome: 'completed' } } },
  // 批量办理: a developer (ENTERPRISE) files the first registration, or the pre-sale
  // pre-registrations, of a building's units with the centre of their division, each unit a
  // message, many in one batch (POST /v1/batches). The centre opens its own cases from them.
  { type: 'enterprise.registration.request', kind: 'async', from: ['ENTERPRISE'], to: ['REG'], route: 'division', needs: { caseId: false, unitCode: true }, bodyUnitCode: '/unit/unitCode', bodySenderCode: '/developer/uscc' },
  { type: 'enterprise.preregistration.request', kind: 'async', from: ['ENTERPRISE'], to: ['REG'], route: 'division', needs: { caseId: false, unitCode: true }, bodyUnitCode: '/unit/unitCode', bodySenderCode: '/developer/uscc' },
  // 水电气热同步过户: once the transfer is entered (registration.completed naming the services the
  // applicants opted in to), the centre that owns the case tells each such utility; it answers.
  { type: 'utility.transfer.notice', kind: 'async', from: ['REG'], to: ['UTILITY'], route: 'utility', needs: { caseId: true, unitCode: true }, step: { open: 'utility', perService: true }, bodyUnitCode: '/unitCode' },
  { type: 'utility.transfer.completed', kind: 'async', from: ['UTILITY'], to: ['REG'], route: 'step-requester', needs: { caseId: true, unitCode: true }, step: { close: { kind: 'utility', outcome: 'completed', rejectedWhen: { pointer: '/outcome', value: 'refused' } }, perService: true } },
]

const BY_TYPE = new Map(RULES.map((r) => [r.type, r]))

/** The routing rule of a message type; deny by default: no rule, no route. */
export function ruleFor(type: string): MessageTypeRule | undefined {
  return BY_TYPE.get(type)
}

/** Every rule (docs, directory checks). */
export function allRules(): readonly MessageTypeRule[] {
  return RULES
}

/**
 * The envelope fields a type requires, and that the body's copy of the unit code (if the type
 * has one and the body gives it) equals the envelope's: routing and cases go by the envelope.
 */
export function envelopeViolations(env: { type: string; from?: string; to?: string; caseId?: string; unitCode?: string; body: unknown }, rule: MessageTypeRule): Violation[] {
  const out: Violation[] = []
  if (rule.needs.caseId && env.caseId === undefined) out.push({ pointer: '/caseId', rule: 'required', message: `${rule.type} requires caseId` })
  if (rule.needs.unitCode && env.unitCode === undefined) out.push({ pointer: '/unitCode', rule: 'required', message: `${rule.type} requires unitCode` })
  if (rule.route === 'named' && env.to === undefined) out.push({ pointer: '/to', rule: 'required', message: `${rule.type} names its recipient in "to"` })
  if (rule.bodyUnitCode !== undefined && env.unitCode !== undefined) {
    const node = bodyString(env.body, rule.bodyUnitCode)
    if (node !== undefined && node !== env.unitCode) {
      out.push({ pointer: `/body${rule.bodyUnitCode}`, rule: 'const', message: 'must equal the envelope\'s unitCode' })
    }
  }
  return out
}

/**
 * Where the body names its sender (a developer's credit code), that it is the sender: checked
 * with the route (router.ts), after the sender's role, so that a role that may not send the type
 * is told so (403) whatever its body says.
 */
export function senderCodeViolations(env: { from?: string; body: unknown }, rule: MessageTypeRule): Violation[] {
  if (rule.bodySenderCode === undefined) return []
  // A developer files in its own name only.
  const code = bodyString(env.body, rule.bodySenderCode)
  if (code === undefined || code === env.from?.split(':')[1]) return []
  return [{ pointer: `/body${rule.bodySenderCode}`, rule: 'const', message: 'must be the sender\'s own credit code (the CODE of "from")' }]
}

/** The value at a JSON pointer of the body (schema-checked before this is asked), if any. */
function bodyValue(body: unknown, pointer: string): unknown {
  let node: unknown = body
  for (const part of pointer.split('/').slice(1)) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined
  return node
}

/** The string at a JSON pointer of the body, if it is one. */
export function bodyString(body: unknown, pointer: string): string | undefined {
  const node = bodyValue(body, pointer)
  return typeof node === 'string' ? node : undefined
}

/** The deadline variant of the step a message opens, if its body selects one (message-types StepEffect.variant). */
export function stepVariant(rule: MessageTypeRule, body: unknown): string | undefined {
  const v = rule.step?.variant
  return v !== undefined && bodyValue(body, v.pointer) === v.equals ? v.name : undefined
}

/** The kind of the step a message opens or closes, if it does: per service for utilities (`utility:water`). */
export function stepKind(rule: MessageTypeRule, which: 'open' | 'close', body: unknown): string | undefined {
  const base = which === 'open' ? rule.step?.open : rule.step?.close?.kind
  if (base === undefined || rule.step?.perService !== true) return base
  const service = bodyString(body, '/service')
  return service === undefined ? base : `${base}:${service}`
}

/** The outcome a closing message gives its step (undefined when it closes none, or leaves it open: `onlyWhen`). */
export function closeOutcome(rule: MessageTypeRule, body: unknown): 'completed' | 'rejected' | undefined {
  const close = rule.step?.close
  if (close === undefined) return undefined
  if (close.onlyWhen !== undefined && bodyString(body, close.onlyWhen.pointer) !== close.onlyWhen.value) return undefined
  if (close.rejectedWhen !== undefined && bodyString(body, close.rejectedWhen.pointer) === close.rejectedWhen.value) return 'rejected'
  return close.outcome
}

/** Schema violations first; then the cross-field ones at pointers the schema did not already report. */
export function combineViolations(schema: readonly Violation[], crossField: readonly Violation[]): Violation[] {
  const seen = new Set(schema.map((v) => v.pointer))
  return [...schema, ...crossField.filter((v) => !seen.has(v.pointer))]
}
