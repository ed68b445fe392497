import { digestHex } from '../../crypto/index.ts'
import { signElectronicCertificate, verifyElectronicCertificate, type InboundDelivery } from '../../client/index.ts'
import type { SimulatedAgency } from '../agency.ts'
import { iso, type Person } from '../register.ts'
import { within } from './transfer.ts'

/**
 * Suihua's city–county platform (异地申请·属地审核·远程打印): a couple living in 北林区 sells a flat
 * in 望奎县. They apply at the 北林 centre; the 望奎 centre examines and registers; the new title
 * is printed in 北林. Made-up people.
 */
const SELLER: Person = { name: '孙立国', idNumber: '231221197011052219', phone: '13904556118', address: '绥化市北林区西直路12号' }
const BUYER: Person = { name: '李秀英', idNumber: '231221198403172425', phone: '13904556120', address: '绥化市北林区西直路12号' }
export const SUIHUA = {
  caseId: '231202-2026-000901', homeCaseId: '231221-2026-000052',
  unitCode: '231221101002GB00345F00030101', location: '望奎县先锋路18号1幢2单元301室',
  oldTitle: '黑(2019)望奎县不动产权第0003456号', newTitle: '黑(2026)望奎县不动产权第0000512号',
  seller: SELLER, buyer: BUYER,
}

/** A scanned material: its bytes (made up, a few hundred KB), and how the application names it (digest, type, size). */
function material(name: string, mediaType: string, text: string, pages: number): { bytes: Buffer; entry: { name: string; digest: { alg: 'SM3'; value: string }; mediaType: string; size: number; pages: number } } {
  const bytes = Buffer.from(`${name} ${text} `.repeat(pages * 6000), 'utf8')
  return { bytes, entry: { name, digest: { alg: 'SM3', value: digestHex('national', bytes) }, mediaType, size: bytes.length, pages } }
}

/**
 * The 望奎 centre's side: it examines a forwarded application into a case of its own, enters the
 * transfer after `clerkMs` (the time its clerk takes) and sends the new title to be printed where
 * the applicants stand, with its electronic certificate.
 */
export function homeCentre(wk: SimulatedAgency, o: { clerkMs: number }): void {
  wk.on('registration.application.forwarded', async (d: InboundDelivery) => {
    const b = d.envelope.body as { applicants: unknown[]; materials: Array<{ name: string }>; plainTransfer: boolean; acceptingOffice: { name: string } }
    wk.say(`received an application forwarded by ${b.acceptingOffice.name} for unit ${d.envelope.unitCode ?? ''}: ${b.applicants.length} applicants, materials ${b.materials.map((m) => m.name).join('、')}${b.plainTransfer ? ' (a plain transfer: the one-hour promise)' : ''}`)
    const caseId = d.envelope.caseId as string
    const unitCode = d.envelope.unitCode as string
    // The scanned materials came as attachments: each fetched, checked against the signed envelope
    // (by the SDK) and against the application's list of materials (by SM3 digest).
    let bytes = 0
    for (const ref of d.envelope.attachments ?? []) {
      const parts: Buffer[] = []
      for await (const piece of wk.client.downloadAttachment(ref)) parts.push(piece)
      const file = Buffer.concat(parts)
      const named = (b.materials as unknown as Array<{ name: string; digest: { value: string } }>).find((m) => m.digest.value === digestHex('national', file))
      if (named === undefined) throw new Error(`attachment ${ref.id} is none of the application's materials`)
      bytes += file.length
    }
    wk.say(`fetched the ${(d.envelope.attachments ?? []).length} scanned materials (${Math.round(bytes / 1024)} KB, streamed, each checked against the signed application)`)
    await wk.client.send({ type: 'registration.application.examined', caseId, unitCode, body: { result: 'accepted', homeCaseId: SUIHUA.homeCaseId, examinedAt: iso(new Date()) } })
    wk.say(`examined it (属地审核): accepted into its own case ${SUIHUA.homeCaseId}, linked to ${caseId}`)
    await new Promise((r) => setTimeout(r, o.clerkMs))
    const registeredAt = iso(new Date())
    const digest = { alg: 'SM3' as const, value: digestHex('national', Buffer.from(`不动产权证书 ${SUIHUA.newTitle} ${unitCode}`, 'utf8')) }
    const electronicCertificate = await signElectronicCertificate({ certificateNumber: SUIHUA.newTitle, kind: 'title', unitCode, issuedAt: registeredAt, document: { digest } }, wk.options.signingKey)
    wk.say(`entered the transfer in its register (登簿): title ${SUIHUA.newTitle}; sending it to be printed where the applicants stand`)
    await wk.client.send({
      type: 'certificate.print.request', caseId, unitCode,
      body: {
        certificateNumber: SUIHUA.newTitle, unitCode, location: SUIHUA.location,
        owners: [{ name: BUYER.name, idType: '1', idNumber: BUYER.idNumber, share: '1' }], coOwnership: 'sole',
        rightType: 'land-and-building', usage: '城镇住宅用地/住宅', buildingArea: '89.36', registeredAt,
        registeringOffice: { name: '望奎县不动产登记中心', division: '231221' },
        document: { digest, mediaType: 'application/ofd' }, electronicCertificate,
      },
    })
  })
}

/**
 * 北林: accepts the application at its window, forwards it, and prints the certificate that comes
 * back (after checking its electronic certificate offline). Returns the forwarded case's id.
 */
export async function suihuaCase(bl: SimulatedAgency): Promise<string> {
  const s = SUIHUA
  const printed = new Promise<void>((resolve, reject) => bl.on('certificate.print.request', async (d) => {
    const b = d.envelope.body as { certificateNumber: string; electronicCertificate: string; document: { digest: { value: string } } }
    const c = await verifyElectronicCertificate(b.electronicCertificate, await bl.client.directory()).catch(reject)
    if (c === undefined) return
    bl.say(`the title ${b.certificateNumber} came back from ${c.issuer}: electronic certificate verified offline, ${c.document.digest.value === b.document.digest.value ? 'digest matches' : 'digest DIFFERS'}; printing it here (证书远程打印)`)
    await bl.client.send({ type: 'certificate.printed', caseId: d.envelope.caseId as string, unitCode: d.envelope.unitCode as string, body: { certificateNumber: b.certificateNumber, printSerialNumber: '23001261234', printedAt: iso(new Date()), handedOverAt: iso(new Date()) } })
    bl.say(`printed on form 23001261234 and handed to the buyer`)
    resolve()
  }))
  // The scanned materials travel as attachments (申请材料): uploaded first, named in the envelope.
  const materials = [material('不动产登记申请书', 'application/pdf', s.caseId, 2), material('身份证明', 'image/jpeg', s.caseId, 2), material('不动产权证书', 'application/pdf', s.oldTitle, 4)]
  const attachments = []
  for (const m of materials) attachments.push(await bl.client.uploadAttachment(m.bytes, m.entry.mediaType))
  bl.say(`uploaded the application's ${materials.length} scanned materials (${Math.round(materials.reduce((n, m) => n + m.bytes.length, 0) / 1024)} KB) as attachments, encrypted to the gateway`)
  const applicant = (p: Person, side: 'obligor' | 'holder') => ({ side, name: p.name, idType: '1', idNumber: p.idNumber, ...(side === 'holder' ? { share: '1', phone: p.phone } : {}) })
  const r = await bl.client.send({
    type: 'registration.application.forwarded', caseId: s.caseId, unitCode: s.unitCode, attachments,
    body: {
      registrationType: '200', plainTransfer: true,
      property: { unitCode: s.unitCode, certificateNumber: s.oldTitle, location: s.location },
      applicants: [applicant(SELLER, 'obligor'), applicant(BUYER, 'holder')],
      materials: materials.map((m) => m.entry),
      acceptedAt: iso(new Date()), acceptingOffice: { name: '绥化市北林区不动产登记中心', division: '231202' },
    },
  })
  bl.say(`accepted at its window a transfer of unit ${s.unitCode} in 望奎县 (异地申请) and forwarded it (no "to": routed to the centre of division ${s.unitCode.slice(0, 6)}); receipt ${r.receipt.exchangeId}`)
  await within(printed, 20_000, 'the certificate did not come back for printing')
  return s.caseId
}
