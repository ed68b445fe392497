import { TongbanError } from '../errors.ts'
import type { Db } from '../store/db.ts'
import { findOpenSteps, getCase, isParticipant, listParticipants, participation, type Step } from '../store/cases.ts'
import { mayJoinCase, mayOpenCase } from './case-join.ts'
import type { Directory, Participant } from './directory.ts'
import type { Envelope } from './envelope.ts'
import { bodyString, senderCodeViolations, stepKind, type MessageTypeRule } from './message-types.ts'
import { divisionCovers, divisionOfUnitCode, responsibleFor, splitParticipantId } from './roles.ts'
import { caseIdIssuer } from './formats.ts'

/** Where an accepted message goes and what it does to its case. */
export interface RoutePlan {
  readonly recipients: readonly Participant[]
  /** The open step this message answers (checked again, under lock, when it is closed). */
  readonly answers?: Step
  /** The sender is not on the case and applies to join it (pending until the owner answers). */
  readonly joins?: boolean
}

function forbidden(message: string): TongbanError {
  return new TongbanError('TB_ERR_ROUTE_FORBIDDEN', message)
}

/**
 * Decides the recipients of a message (deny by default): the sender must be allowed to send
 * the type, each recipient to receive it, and both roles must fit the type's rule.
 */
export async function planRoute(env: Envelope, rule: MessageTypeRule, sender: Participant, directory: Directory, db: Db): Promise<RoutePlan> {
  if (!rule.from.includes(sender.role) || !sender.send.has(env.type)) throw forbidden(`${sender.id} may not send ${env.type}`)
  const notOwnName = senderCodeViolations(env, rule)
  if (notOwnName.length > 0) throw new TongbanError('TB_ERR_SCHEMA', 'the message names another sender than you', { violations: notOwnName })
  if (rule.senderServesUnit === true && env.unitCode !== undefined) {
    const division = divisionOfUnitCode(env.unitCode)
    if (!sender.divisions.some((d) => divisionCovers(d, division))) throw forbidden(`${sender.id} does not serve division ${division}`)
  }

  // A court's case (a J serial) carries the court's requests and their answers only: a centre that
  // is on it cannot bring a tax bureau or a bank in, and nobody learns it exists.
  if (env.caseId !== undefined && caseIdIssuer(env.caseId) === 'COURT' && !rule.type.startsWith('judicial.')) {
    throw new TongbanError('TB_ERR_CASE_NOT_FOUND', `no case ${env.caseId} that you take part in`, { detail: { caseId: env.caseId } })
  }

  let plan: RoutePlan
  switch (rule.route) {
    case 'division':
      plan = { recipients: [byDivision(env, rule, directory)] }
      break
    case 'step-requester':
      plan = await toStepRequester(env, rule, sender, directory, db)
      break
    case 'case-participants':
      plan = { recipients: await toCaseParticipants(env, rule, sender, directory, db) }
      break
    case 'case-owner':
      plan = await toCaseOwner(env, sender, directory, db)
      break
    case 'named':
      plan = { recipients: [named(env, directory)] }
      break
    case 'utility':
      plan = { recipients: [await toUtility(env, sender, directory, db)] }
      break
  }

  for (const r of plan.recipients) {
    if (!rule.to.includes(r.role) || !r.receive.has(env.type)) throw forbidden(`${r.id} may not receive ${env.type}`)
    if (r.id === sender.id) throw forbidden('a participant cannot send to itself')
  }
  await checkLinks(env, rule, sender, db)
  return plan
}

/**
 * A cross-region application (异地申请): the home centre accepts it into a case of its own (a case
 * id it may open: one of its divisions, a serial of digits), and the certificate comes back for
 * printing only once it did.
 */
async function checkLinks(env: Envelope, rule: MessageTypeRule, sender: Participant, db: Db): Promise<void> {
  const caseId = env.caseId as string
  const home = rule.linksCase === undefined ? undefined : bodyString(env.body, rule.linksCase)
  if (home !== undefined && !mayOpenCase(sender, rule, home)) {
    throw new TongbanError('TB_ERR_CASE_MISMATCH', 'the home case must be a case id of your own divisions (a serial of digits)', { detail: { caseId } })
  }
  // Examined once: an application accepted into a home case is not returned (nor accepted again) after.
  if (rule.linksCase !== undefined && (await getCase(db, caseId))?.homeCase != null) {
    throw new TongbanError('TB_ERR_CASE_CONFLICT', `the application of case ${caseId} was already accepted by the home centre`, { detail: { caseId } })
  }
  if (rule.needsLink === true && (await getCase(db, caseId))?.homeCase == null) {
    throw new TongbanError('TB_ERR_CASE_CONFLICT', `the application of case ${caseId} is not accepted by the home centre yet (registration.application.examined)`, { detail: { caseId } })
  }
}

function byDivision(env: Envelope, rule: MessageTypeRule, directory: Directory): Participant {
  if (env.to !== undefined) {
    const p = directory.participant(env.to)
    if (p === undefined) throw new TongbanError('TB_ERR_NO_ROUTE', 'the recipient named in "to" is not in the directory')
    // 属地: a recipient named by hand must still serve the unit's division.
    if (env.unitCode !== undefined && !p.divisions.some((d) => divisionCovers(d, divisionOfUnitCode(env.unitCode as string)))) {
      throw forbidden(`${p.id} does not serve division ${divisionOfUnitCode(env.unitCode)}`)
    }
    return p
  }
  if (env.unitCode === undefined) throw new TongbanError('TB_ERR_NO_ROUTE', 'no "to" and no unit code to route by')
  const division = divisionOfUnitCode(env.unitCode)
  for (const role of rule.to) {
    const p = directory.forDivision(role, division)
    if (p !== undefined) return p
  }
  throw new TongbanError('TB_ERR_NO_ROUTE', `no ${rule.to.join('/')} serves division ${division}`, { detail: { division } })
}

/** The participant named in `to` (the envelope check made it required). */
function named(env: Envelope, directory: Directory): Participant {
  const p = env.to === undefined ? undefined : directory.participant(env.to)
  if (p === undefined) throw new TongbanError('TB_ERR_NO_ROUTE', 'the recipient named in "to" is not in the directory')
  return p
}

async function toStepRequester(env: Envelope, rule: MessageTypeRule, sender: Participant, directory: Directory, db: Db): Promise<RoutePlan> {
  const kind = stepKind(rule, 'close', env.body)
  const caseId = env.caseId as string
  // Steps that await someone else look like no step at all: a sender cannot probe others' cases.
  const mine = kind === undefined ? [] : (await findOpenSteps(db, caseId, kind)).filter((s) => s.responder === sender.id)
  if (mine.length === 0) {
    throw new TongbanError('TB_ERR_CASE_NOT_FOUND', `case ${caseId} has no open ${kind ?? ''} step for you to answer`, { detail: { caseId } })
  }
  const c = await getCase(db, caseId)
  if (c !== undefined && c.unitCode !== env.unitCode) throw new TongbanError('TB_ERR_CASE_MISMATCH', `the unit code differs from case ${caseId}'s`, { detail: { caseId } })
  // Several applicants may each have a step of this kind open: "to" names the one answered.
  const steps = env.to === undefined ? mine : mine.filter((s) => s.requester === env.to)
  if (steps.length === 0) throw new TongbanError('TB_ERR_CASE_MISMATCH', `"to" is not the participant that opened the step`, { detail: { caseId } })
  const step = steps[0] as Step
  if (steps.length > 1) {
    throw new TongbanError('TB_ERR_CASE_CONFLICT', `case ${caseId} has ${steps.length} open ${kind ?? ''} steps: name the applicant you answer in "to"`, { detail: { caseId } })
  }
  const requester = directory.participant(step.requester)
  if (requester === undefined) throw new TongbanError('TB_ERR_NO_ROUTE', 'the participant that opened the step is no longer in the directory')
  return { recipients: [requester], answers: step }
}

/**
 * An application on a case goes to the registration centre that owns it, and only there. Who is
 * not on the case and may not apply to it, and who names another recipient, gets the answer a
 * case that does not exist gets (no probing for cases or their owners).
 */
async function toCaseOwner(env: Envelope, sender: Participant, directory: Directory, db: Db): Promise<RoutePlan> {
  const caseId = env.caseId as string
  const none = (): TongbanError => new TongbanError('TB_ERR_CASE_NOT_FOUND', `no case ${caseId} that you may apply to${env.to === undefined ? '' : ` at ${env.to}`}`, { detail: { caseId } })
  const c = await getCase(db, caseId)
  if (c === undefined) throw none()
  // A pending applicant applies again under the same rule as the first time. Until it is on the
  // case, every mismatch gets the one answer an unknown case gets: a bank's self-declared loan
  // application must not let it learn which case ids exist, for which unit, or whose they are.
  const joins = (await participation(db, caseId, sender.id)) !== 'confirmed'
  if (joins && (c.unitCode !== env.unitCode || !(await mayJoinCase(db, env, sender)))) throw none()
  if (env.to !== undefined && env.to !== c.openedBy) throw none()
  const owner = directory.participant(c.openedBy)
  if (owner === undefined) throw new TongbanError('TB_ERR_NO_ROUTE', 'the registration centre that owns the case is no longer in the directory', { detail: { caseId } })
  return { recipients: [owner], joins }
}

async function toCaseParticipants(env: Envelope, rule: MessageTypeRule, sender: Participant, directory: Directory, db: Db): Promise<Participant[]> {
  const caseId = env.caseId as string
  const c = await getCase(db, caseId)
  if (c === undefined || !(await isParticipant(db, caseId, sender.id))) {
    throw new TongbanError('TB_ERR_CASE_NOT_FOUND', `no case ${caseId} that ${sender.id} takes part in`, { detail: { caseId } })
  }
  if (c.unitCode !== env.unitCode) throw new TongbanError('TB_ERR_CASE_MISMATCH', `the unit code differs from case ${caseId}'s`, { detail: { caseId } })
  const ids = (await listParticipants(db, caseId)).filter((id) => id !== sender.id)
  if (env.to !== undefined && !ids.includes(env.to)) throw forbidden(`${env.to} does not take part in case ${caseId}`)
  const recipients = (env.to !== undefined ? [env.to] : ids)
    .map((id) => directory.participant(id))
    .filter((p): p is Participant => p !== undefined && rule.to.includes(p.role) && p.receive.has(env.type))
  if (recipients.length === 0) throw new TongbanError('TB_ERR_NO_ROUTE', `no participant of case ${caseId} receives ${env.type}`, { detail: { caseId } })
  return recipients
}

/**
 * A transfer notice (水电气热同步过户) goes to the utility of its service that supplies the unit's
 * division, from the centre that owns the case, and only for a service the applicants opted in
 * to when the transfer was entered (registration.completed). Another centre's case, or none,
 * gets the answer an unknown case gets.
 */
async function toUtility(env: Envelope, sender: Participant, directory: Directory, db: Db): Promise<Participant> {
  const caseId = env.caseId as string
  const unitCode = env.unitCode as string
  const service = (env.body as { service: string }).service
  const c = await getCase(db, caseId)
  if (c === undefined || c.openedBy !== sender.id) throw new TongbanError('TB_ERR_CASE_NOT_FOUND', `no case ${caseId} of yours`, { detail: { caseId } })
  if (c.unitCode !== unitCode) throw new TongbanError('TB_ERR_CASE_MISMATCH', `the unit code differs from case ${caseId}'s`, { detail: { caseId } })
  if (!c.utilityServices.includes(service)) {
    throw forbidden(`the applicants of case ${caseId} did not opt in to the ${service} transfer (or its transfer is not entered yet: registration.completed names the services)`)
  }
  const division = divisionOfUnitCode(unitCode)
  const companies = directory.participants().filter((p) => p.role === 'UTILITY' && splitParticipantId(p.id)?.subsystem === service)
  if (env.to !== undefined && directory.participant(env.to) === undefined) throw new TongbanError('TB_ERR_NO_ROUTE', 'the recipient named in "to" is not in the directory')
  const company = env.to === undefined ? responsibleFor(companies, 'UTILITY', division) : companies.find((p) => p.id === env.to)
  if (company === undefined) {
    throw env.to === undefined
      ? new TongbanError('TB_ERR_NO_ROUTE', `no ${service} company supplies division ${division}`, { detail: { division } })
      : forbidden(`${env.to} is not the ${service} company`)
  }
  // 属地: a company named by hand must still supply the unit's division.
  if (!company.divisions.some((d) => divisionCovers(d, division))) throw forbidden(`${company.id} does not supply division ${division}`)
  return company
}
