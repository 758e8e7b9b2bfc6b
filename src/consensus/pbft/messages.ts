import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf'
import { computeCryptoHash } from '../../crypto/hash.ts'
import { toBase64 } from '../../crypto/bytes.ts'
import {
  batch_messageSchema, messageSchema, metadataSchema, request_batchSchema, view_changeSchema,
  type request, type request_batch, type view_change
} from '../../protos/pbft_pb.ts'
import { marshalRequest, marshalRequestBatch } from './request-bytes.ts'

/**
 * PBFT messages as the core handles them: numbers instead of uint64 bigints, checked on the
 * way in so that a value past 2^53 (which no honest replica sends) is an error, not a rounding.
 * Requests and batches stay protobuf objects: they are opaque and hashed as marshaled.
 */
export type Request = request
export type RequestBatch = request_batch

export interface PrePrepare { view: number, seqNo: number, digest: string, batch?: RequestBatch, replicaId: number }
export interface Prepare { view: number, seqNo: number, digest: string, replicaId: number }
export interface Commit { view: number, seqNo: number, digest: string, replicaId: number }
export interface Checkpoint { seqNo: number, replicaId: number, id: string }
/** An entry of a view-change's P or Q set. */
export interface PQ { seqNo: number, digest: string, view: number }
export interface CheckpointRef { seqNo: number, id: string }
export interface ViewChange {
  view: number
  h: number
  cset: CheckpointRef[]
  pset: PQ[]
  qset: PQ[]
  replicaId: number
  signature: Uint8Array
}
export interface NewView { view: number, vset: ViewChange[], xset: Map<number, string>, replicaId: number }
export interface FetchRequestBatch { digest: string, replicaId: number }

export type PbftMessage =
  | { type: 'requestBatch', batch: RequestBatch }
  | { type: 'prePrepare', msg: PrePrepare }
  | { type: 'prepare', msg: Prepare }
  | { type: 'commit', msg: Commit }
  | { type: 'checkpoint', msg: Checkpoint }
  | { type: 'viewChange', msg: ViewChange }
  | { type: 'newView', msg: NewView }
  | { type: 'fetchRequestBatch', msg: FetchRequestBatch }
  | { type: 'returnRequestBatch', batch: RequestBatch }

export class PbftDecodeError extends Error {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'PbftDecodeError'
  }
}

function num (v: bigint, field: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new PbftDecodeError(`${field} ${v} is out of range`)
  return Number(v)
}

/** Digests of requests already hashed: a primary keys each request three times (outstanding, pending, executed). */
const requestDigests = new WeakMap<Request, string>()

/** Fabric's hash(): base64 of SHAKE256-64 of the marshaled request. */
export function requestDigest (req: Request): string {
  let digest = requestDigests.get(req)
  if (digest === undefined) {
    digest = toBase64(computeCryptoHash(marshalRequest(req)))
    requestDigests.set(req, digest)
  }
  return digest
}

/** Batches' marshaled bytes: a batch is hashed and persisted as the same bytes, and never changes. */
const batchBytes = new WeakMap<RequestBatch, Uint8Array>()

/**
 * The bytes toBinary(request_batchSchema, batch) gives. Its requests are marshaled for it anyway,
 * so those not yet hashed (a backup's copies from the pre-prepare, which it executes) get their
 * digests here too.
 */
export function marshalBatch (batch: RequestBatch): Uint8Array {
  let bytes = batchBytes.get(batch)
  if (bytes === undefined) {
    const requests = batch.batch.map(req => {
      const b = marshalRequest(req)
      if (!requestDigests.has(req)) requestDigests.set(req, toBase64(computeCryptoHash(b)))
      return b
    })
    bytes = marshalRequestBatch(batch, requests)
    batchBytes.set(batch, bytes)
  }
  return bytes
}

/** Fabric's hash() of a batch. */
export function batchDigest (batch: RequestBatch): string {
  return toBase64(computeCryptoHash(marshalBatch(batch)))
}

function vcFromProto (vc: view_change): ViewChange {
  return {
    view: num(vc.view, 'view-change view'),
    h: num(vc.h, 'view-change h'),
    cset: vc.cset.map(c => ({ seqNo: num(c.sequenceNumber, 'view-change C sequence number'), id: c.id })),
    pset: vc.pset.map(p => ({ seqNo: num(p.sequenceNumber, 'view-change P sequence number'), digest: p.batchDigest, view: num(p.view, 'view-change P view') })),
    qset: vc.qset.map(q => ({ seqNo: num(q.sequenceNumber, 'view-change Q sequence number'), digest: q.batchDigest, view: num(q.view, 'view-change Q view') })),
    replicaId: num(vc.replicaId, 'view-change replica id'),
    signature: vc.signature
  }
}

function vcToProto (vc: ViewChange, withSignature = true): view_change {
  return create(view_changeSchema, {
    view: BigInt(vc.view),
    h: BigInt(vc.h),
    cset: vc.cset.map(c => ({ sequenceNumber: BigInt(c.seqNo), id: c.id })),
    pset: vc.pset.map(p => ({ sequenceNumber: BigInt(p.seqNo), batchDigest: p.digest, view: BigInt(p.view) })),
    qset: vc.qset.map(q => ({ sequenceNumber: BigInt(q.seqNo), batchDigest: q.digest, view: BigInt(q.view) })),
    replicaId: BigInt(vc.replicaId),
    signature: withSignature ? vc.signature : new Uint8Array(0)
  })
}

/** What a view-change signature covers: the message marshaled with an empty signature. */
export function viewChangeSigningBytes (vc: ViewChange): Uint8Array {
  return toBinary(view_changeSchema, vcToProto(vc, false))
}

/** Decodes a marshaled pbft.message; throws PbftDecodeError for anything unusable. */
export function decodePbftMessage (bytes: Uint8Array): PbftMessage {
  let m
  try {
    m = fromBinary(messageSchema, bytes)
  } catch (err) {
    throw new PbftDecodeError(`undecodable PBFT message (${bytes.length} bytes): ${(err as Error).message}`, { cause: err })
  }
  const p = m.payload
  switch (p.case) {
    case 'requestBatch': return { type: 'requestBatch', batch: p.value }
    case 'returnRequestBatch': return { type: 'returnRequestBatch', batch: p.value }
    case 'prePrepare': return {
      type: 'prePrepare',
      msg: { view: num(p.value.view, 'pre-prepare view'), seqNo: num(p.value.sequenceNumber, 'pre-prepare sequence number'), digest: p.value.batchDigest, batch: p.value.requestBatch, replicaId: num(p.value.replicaId, 'pre-prepare replica id') }
    }
    case 'prepare':
    case 'commit': {
      const v = p.value
      const what = p.case === 'prepare' ? 'prepare' : 'commit'
      const msg = { view: num(v.view, `${what} view`), seqNo: num(v.sequenceNumber, `${what} sequence number`), digest: v.batchDigest, replicaId: num(v.replicaId, `${what} replica id`) }
      return p.case === 'prepare' ? { type: 'prepare', msg } : { type: 'commit', msg }
    }
    case 'checkpoint': return {
      type: 'checkpoint',
      msg: { seqNo: num(p.value.sequenceNumber, 'checkpoint sequence number'), replicaId: num(p.value.replicaId, 'checkpoint replica id'), id: p.value.id }
    }
    case 'viewChange': return { type: 'viewChange', msg: vcFromProto(p.value) }
    case 'newView': {
      const xset = new Map<number, string>()
      for (const [k, d] of Object.entries(p.value.xset)) xset.set(num(BigInt(k), 'new-view X sequence number'), d)
      return {
        type: 'newView',
        msg: { view: num(p.value.view, 'new-view view'), vset: p.value.vset.map(vcFromProto), xset, replicaId: num(p.value.replicaId, 'new-view replica id') }
      }
    }
    case 'fetchRequestBatch': return {
      type: 'fetchRequestBatch',
      msg: { digest: p.value.batchDigest, replicaId: num(p.value.replicaId, 'fetch-request-batch replica id') }
    }
    default: throw new PbftDecodeError('PBFT message has no payload')
  }
}

export function encodePbftMessage (m: PbftMessage): Uint8Array {
  return toBinary(messageSchema, create(messageSchema, { payload: toPayload(m) }))
}

function toPayload (m: PbftMessage): MessageInitShape<typeof messageSchema>['payload'] {
  switch (m.type) {
    case 'requestBatch': return { case: 'requestBatch', value: m.batch }
    case 'returnRequestBatch': return { case: 'returnRequestBatch', value: m.batch }
    case 'prePrepare': return {
      case: 'prePrepare',
      value: { view: BigInt(m.msg.view), sequenceNumber: BigInt(m.msg.seqNo), batchDigest: m.msg.digest, requestBatch: m.msg.batch, replicaId: BigInt(m.msg.replicaId) }
    }
    case 'prepare':
    case 'commit': return {
      case: m.type,
      value: { view: BigInt(m.msg.view), sequenceNumber: BigInt(m.msg.seqNo), batchDigest: m.msg.digest, replicaId: BigInt(m.msg.replicaId) }
    }
    case 'checkpoint': return { case: 'checkpoint', value: { sequenceNumber: BigInt(m.msg.seqNo), replicaId: BigInt(m.msg.replicaId), id: m.msg.id } }
    case 'viewChange': return { case: 'viewChange', value: vcToProto(m.msg) }
    case 'newView': {
      // Ascending sequence numbers, so equal new-views marshal to equal bytes.
      const xset: Record<string, string> = {}
      for (const n of [...m.msg.xset.keys()].sort((a, b) => a - b)) xset[String(n)] = m.msg.xset.get(n)!
      return { case: 'newView', value: { view: BigInt(m.msg.view), vset: m.msg.vset.map(vc => vcToProto(vc)), xset, replicaId: BigInt(m.msg.replicaId) } }
    }
    case 'fetchRequestBatch': return { case: 'fetchRequestBatch', value: { batchDigest: m.msg.digest, replicaId: BigInt(m.msg.replicaId) } }
  }
}

/** The outer envelope between replicas (pbft.batch_message), carried as a CONSENSUS message payload. */
export type BatchMessage =
  | { type: 'request', request: Request }
  | { type: 'pbftMessage', bytes: Uint8Array }
  | { type: 'other', what: string }

export function decodeBatchMessage (bytes: Uint8Array): BatchMessage {
  let m
  try {
    m = fromBinary(batch_messageSchema, bytes)
  } catch (err) {
    throw new PbftDecodeError(`undecodable PBFT batch message (${bytes.length} bytes): ${(err as Error).message}`, { cause: err })
  }
  switch (m.payload.case) {
    case 'request': return { type: 'request', request: m.payload.value }
    case 'pbftMessage': return { type: 'pbftMessage', bytes: m.payload.value }
    case undefined: return { type: 'other', what: 'empty batch message' }
    default: return { type: 'other', what: m.payload.case }
  }
}

export function encodeRequestMessage (req: Request): Uint8Array {
  return toBinary(batch_messageSchema, create(batch_messageSchema, { payload: { case: 'request', value: req } }))
}

export function encodePbftEnvelope (pbftMessage: Uint8Array): Uint8Array {
  return toBinary(batch_messageSchema, create(batch_messageSchema, { payload: { case: 'pbftMessage', value: pbftMessage } }))
}

/** Block consensusMetadata: the PBFT sequence number that produced the block. */
export function encodeMetadata (seqNo: number): Uint8Array {
  return toBinary(metadataSchema, create(metadataSchema, { seqNo: BigInt(seqNo) }))
}

export function decodeMetadata (bytes: Uint8Array): number {
  return num(fromBinary(metadataSchema, bytes).seqNo, 'block metadata sequence number')
}

export function newRequestBatch (batch: Request[]): RequestBatch {
  return create(request_batchSchema, { batch })
}
