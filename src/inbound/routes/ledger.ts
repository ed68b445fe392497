import type { FastifyInstance } from 'fastify'
import { TongbanError } from '../../errors.ts'
import { leafHash } from '../../ledger/tree.ts'
import { parseCheckpointText, parseNote, tlogProof } from '../../ledger/note.ts'
import { entryById, entryByIndex, type StoredCheckpoint, type StoredEntry } from '../../store/ledger.ts'
import { ownerId } from '../../core/verify.ts'
import { UUID_RE } from '../../util/ids.ts'
import { callerOf, requireCaller } from '../auth.ts'
import { answers, Checkpoint, ConsistencyProof, InclusionProof, LedgerEntry } from '../responses.ts'

const SIZE_RE = /^(0|[1-9]\d{0,14})$/

/** A query parameter that must be a tree size or leaf index (a decimal without leading zeroes). */
function count(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  if (!SIZE_RE.test(value)) throw new TongbanError('TB_ERR_BAD_REQUEST', `${name} must be a decimal integer without leading zeroes`, { violations: [{ pointer: `/query/${name}`, rule: 'pattern', message: `${name} must be a decimal integer` }] })
  return Number(value)
}

function required(value: string | undefined, name: string): number {
  const n = count(value, name)
  if (n === undefined) throw new TongbanError('TB_ERR_BAD_REQUEST', `${name} is required`, { violations: [{ pointer: `/query/${name}`, rule: 'required', message: `${name} is required` }] })
  return n
}

function checkpointJson(c: StoredCheckpoint, origin: string, hashAlg: string, vkeys: string[]): object {
  const body = parseCheckpointText(parseNote(c.note).text)
  return { origin, hashAlg, treeSize: c.treeSize, rootHash: c.rootHash.toString('base64'), timestamp: body.timestamp, note: c.note, vkeys }
}

/**
 * The evidence ledger (docs/ledger.md §6): signed checkpoints, inclusion and consistency proofs,
 * and entries — whole for the participants they name (and operators), the leaf hash for others.
 */
export async function ledgerRoutes(app: FastifyInstance): Promise<void> {
  const on = (): void => {
    if (!app.tb.ledger.enabled) throw new TongbanError('TB_ERR_UNAVAILABLE', 'this gateway runs without its ledger (ledger.enabled is false)')
  }
  /** The size of the integrated tree; a size beyond it is not there yet. */
  const within = async (size: number, name: string): Promise<void> => {
    const state = await app.tb.ledger.state()
    if (size > state.treeSize) throw new TongbanError('TB_ERR_NOT_FOUND', `${name} ${size} is beyond the tree (${state.treeSize} leaves so far)`)
  }

  app.get<{ Querystring: { treeSize?: string } }>('/v1/ledger/checkpoint', { schema: { response: answers({ 200: Checkpoint }) }, onRequest: requireCaller }, async (request) => {
    on()
    const size = count(request.query.treeSize, 'treeSize')
    const ledger = app.tb.ledger
    const c = size === undefined ? await ledger.latestCheckpoint() : await ledger.checkpointAt(size)
    if (c === undefined) throw new TongbanError('TB_ERR_NOT_FOUND', size === undefined ? 'no checkpoint signed yet' : `no checkpoint of tree size ${size}`)
    return checkpointJson(c, ledger.origin, ledger.hash, ledger.vkeys())
  })

  app.get<{ Querystring: { index?: string; treeSize?: string } }>('/v1/ledger/proof/inclusion', { schema: { response: answers({ 200: InclusionProof }) }, onRequest: requireCaller }, async (request) => {
    on()
    const ledger = app.tb.ledger
    const index = required(request.query.index, 'index')
    let size = count(request.query.treeSize, 'treeSize')
    let checkpoint: StoredCheckpoint | undefined
    if (size === undefined) {
      checkpoint = await ledger.latestCheckpoint()
      if (checkpoint === undefined) throw new TongbanError('TB_ERR_NOT_FOUND', 'no checkpoint signed yet')
      size = checkpoint.treeSize
    } else {
      await within(size, 'treeSize')
      checkpoint = await ledger.checkpointAt(size)
    }
    if (index >= size) throw new TongbanError('TB_ERR_NOT_FOUND', `leaf ${index} is not in the tree of ${size} leaves`)
    const p = await ledger.inclusion(index, size)
    return {
      index, treeSize: size, hashAlg: ledger.hash, leafHash: p.leafHash.toString('base64'), hashes: p.hashes.map((h) => h.toString('base64')), rootHash: p.rootHash.toString('base64'),
      ...(checkpoint !== undefined ? { checkpoint: checkpoint.note, tlogProof: tlogProof(index, p.hashes, checkpoint.note) } : {}),
    }
  })

  app.get<{ Querystring: { from?: string; to?: string } }>('/v1/ledger/proof/consistency', { schema: { response: answers({ 200: ConsistencyProof }) }, onRequest: requireCaller }, async (request) => {
    on()
    const ledger = app.tb.ledger
    const from = required(request.query.from, 'from')
    const to = required(request.query.to, 'to')
    if (from > to) throw new TongbanError('TB_ERR_BAD_REQUEST', 'from must not exceed to', { violations: [{ pointer: '/query/from', rule: 'maximum', message: 'from must not exceed to' }] })
    await within(to, 'to')
    const hashes = await ledger.consistency(from, to)
    return { from, to, hashAlg: ledger.hash, hashes: hashes.map((h) => h.toString('base64')), fromRoot: (await ledger.rootAt(from)).toString('base64'), toRoot: (await ledger.rootAt(to)).toString('base64') }
  })

  app.get<{ Params: { ref: string } }>('/v1/ledger/entries/:ref', { schema: { response: answers({ 200: LedgerEntry }) }, onRequest: requireCaller }, async (request) => {
    on()
    const { ref } = request.params
    const byIndex = SIZE_RE.test(ref)
    if (!byIndex && !UUID_RE.test(ref)) throw new TongbanError('TB_ERR_BAD_REQUEST', 'an entry is named by its leaf index or its id', { violations: [{ pointer: '/params/ref', rule: 'pattern', message: 'a leaf index (decimal) or an entry id (UUID)' }] })
    const e: StoredEntry | undefined = byIndex ? await entryByIndex(app.tb.db, Number(ref)) : await entryById(app.tb.db, ref)
    const caller = callerOf(request)
    const mayRead = e !== undefined && (caller.kind === 'operator' || e.parties.includes(ownerId(caller)))
    // By id, an entry not naming the caller is not there for it (ids are not to be probed).
    if (e === undefined || (!byIndex && !mayRead)) throw new TongbanError('TB_ERR_NOT_FOUND', 'no such ledger entry visible to you')
    const hash = leafHash(app.tb.ledger.hash, Buffer.from(e.entry, 'utf8')).toString('base64')
    if (!mayRead) return { leafIndex: e.leafIndex, leafHash: hash }
    return { id: e.id, kind: e.kind, leafIndex: e.leafIndex, leafHash: hash, entry: e.entry }
  })
}
