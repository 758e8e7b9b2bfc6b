// What the message-flow picture shows: each CONSENSUS message between replicas, labelled by its
// PBFT type (decoded from pbft.batch_message → pbft.message), with view and sequence number.
// Also the byzantine replica's lie: pre-prepares (and prepares/commits) whose digest does not
// match the batch, different for each receiver.
import { create } from '@bufbuild/protobuf'
import { MessageSchema, Message_Type, type Message } from '../../src/protos/fabric_pb.ts'
import { decodeBatchMessage, decodePbftMessage, encodePbftEnvelope, encodePbftMessage, type PbftMessage } from '../../src/consensus/pbft/messages.ts'

export type FlowKind = 'request' | 'pre-prepare' | 'prepare' | 'commit' | 'checkpoint' | 'view-change' | 'new-view' | 'fetch' | 'other'

export const FLOW_KINDS: FlowKind[] = ['request', 'pre-prepare', 'prepare', 'commit', 'checkpoint', 'view-change', 'new-view', 'fetch', 'other']

export interface FlowEvent {
  time: number
  from: number
  to: number
  kind: FlowKind
  view?: number
  seqNo?: number
  /** Rewritten by a byzantine sender. */
  forged?: boolean
}

const PBFT_KIND: Record<PbftMessage['type'], FlowKind> = {
  requestBatch: 'other',
  prePrepare: 'pre-prepare',
  prepare: 'prepare',
  commit: 'commit',
  checkpoint: 'checkpoint',
  viewChange: 'view-change',
  newView: 'new-view',
  fetchRequestBatch: 'fetch',
  returnRequestBatch: 'fetch'
}

/** The PBFT content of a CONSENSUS message, or undefined for anything else. */
export function decodeConsensus (msg: Message): { kind: FlowKind, pbft?: PbftMessage } | undefined {
  if (msg.type !== Message_Type.CONSENSUS) return undefined
  const p = msg.payload
  // batch_message field 1 (request) is by far the most frequent: tell it from its tag alone.
  if (p.length > 0 && p[0] === 0x0a) return { kind: 'request' }
  try {
    const outer = decodeBatchMessage(p)
    if (outer.type !== 'pbftMessage') return { kind: outer.type === 'request' ? 'request' : 'other' }
    const pbft = decodePbftMessage(outer.bytes)
    return { kind: PBFT_KIND[pbft.type], pbft }
  } catch {
    return { kind: 'other' }
  }
}

export function flowDetails (pbft: PbftMessage | undefined): { view?: number, seqNo?: number } {
  if (pbft === undefined) return {}
  switch (pbft.type) {
    case 'prePrepare':
    case 'prepare':
    case 'commit': return { view: pbft.msg.view, seqNo: pbft.msg.seqNo }
    case 'checkpoint': return { seqNo: pbft.msg.seqNo }
    case 'viewChange':
    case 'newView': return { view: pbft.msg.view }
    default: return {}
  }
}

/**
 * A byzantine replica's version of `pbft` for receiver `to`: certificates it signs up to get a
 * digest that matches no batch and differs per receiver (equivocation). Other messages pass.
 */
export function forge (pbft: PbftMessage, to: number): PbftMessage | undefined {
  const lie = (digest: string): string => `forged-${to}-${digest.slice(0, 16)}`
  switch (pbft.type) {
    case 'prePrepare': return { type: 'prePrepare', msg: { ...pbft.msg, digest: lie(pbft.msg.digest) } }
    case 'prepare': return { type: 'prepare', msg: { ...pbft.msg, digest: lie(pbft.msg.digest) } }
    case 'commit': return { type: 'commit', msg: { ...pbft.msg, digest: lie(pbft.msg.digest) } }
    default: return undefined
  }
}

/** `msg` with its PBFT content replaced by `pbft`. */
export function withPbft (msg: Message, pbft: PbftMessage): Message {
  return create(MessageSchema, { type: msg.type, timestamp: msg.timestamp, payload: encodePbftEnvelope(encodePbftMessage(pbft)), signature: new Uint8Array(0) })
}
