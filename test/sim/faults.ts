import { create, toBinary } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import { MessageSchema, Message_Type, TransactionSchema, type Message } from '../../src/protos/fabric_pb.ts'
import { requestSchema } from '../../src/protos/pbft_pb.ts'
import {
  batchDigest, decodeBatchMessage, decodePbftMessage, encodePbftEnvelope, encodePbftMessage, newRequestBatch, type PbftMessage
} from '../../src/consensus/pbft/messages.ts'
import { kvInvoke } from './kv-chaincode.ts'
import type { Filter } from './network.ts'
import type { Prng } from './prng.ts'

/** The PBFT message inside a CONSENSUS message, if it carries one. */
export function pbftOf (msg: Message): PbftMessage | undefined {
  if (msg.type !== Message_Type.CONSENSUS) return undefined
  try {
    const bm = decodeBatchMessage(msg.payload)
    return bm.type === 'pbftMessage' ? decodePbftMessage(bm.bytes) : undefined
  } catch {
    return undefined
  }
}

export function consensusMessage (m: PbftMessage): Message {
  return create(MessageSchema, { type: Message_Type.CONSENSUS, payload: encodePbftEnvelope(encodePbftMessage(m)) })
}

/** Rewrites the PBFT messages `from` sends; anything else passes unchanged. */
export function rewrite (from: number, fn: (dst: number, m: PbftMessage) => PbftMessage | undefined): Filter {
  return (src, dst, msg) => {
    if (src !== from) return [msg]
    const m = pbftOf(msg)
    if (m === undefined) return [msg]
    const out = fn(dst, m)
    return out === undefined ? [] : [consensusMessage(out)]
  }
}

/** A batch no client sent: one invoke of the chaincode whose payload is unique to `label`. */
export function forgedBatch (label: string, replicaId: number) {
  const tx = kvInvoke(`forged-${label}`, `forged=${label}`, timestampFromMs(0))
  return newRequestBatch([create(requestSchema, { payload: toBinary(TransactionSchema, tx), replicaId: BigInt(replicaId), timestamp: timestampFromMs(0) })])
}

/** A byzantine primary: every backup gets its own pre-prepare (own batch, own digest) for the same sequence number. */
export function equivocatingPrimary (byz: number): Filter {
  return rewrite(byz, (dst, m) => {
    if (m.type !== 'prePrepare' || m.msg.digest === '' || dst % 2 === 0) return m
    const batch = forgedBatch(`v${m.msg.view}n${m.msg.seqNo}d${dst}`, byz)
    return { type: 'prePrepare', msg: { ...m.msg, batch, digest: batchDigest(batch) } }
  })
}

/** A byzantine backup whose prepares and commits name digests that were never proposed. */
export function badDigests (byz: number, prng: Prng, p = 0.7): Filter {
  return rewrite(byz, (_dst, m) => {
    if ((m.type !== 'prepare' && m.type !== 'commit') || !prng.chance(p)) return m
    return { type: m.type, msg: { ...m.msg, digest: `bogus${prng.int(1000)}` } } as PbftMessage
  })
}

/** A byzantine replica that signs its messages with other replicas' ids. */
export function wrongReplicaIds (byz: number, n: number, prng: Prng, p = 0.7): Filter {
  return rewrite(byz, (_dst, m) => {
    if (m.type === 'requestBatch' || m.type === 'returnRequestBatch' || !prng.chance(p)) return m
    return { type: m.type, msg: { ...m.msg, replicaId: (byz + 1 + prng.int(n - 1)) % n } } as PbftMessage
  })
}

/** Fabric's TestMinimalFuzz, harder: one field of a message nudged, garbage bytes, or truncation. */
export function fuzzer (byz: number, prng: Prng, p = 0.5): Filter {
  const nudge = (x: number): number => Math.max(0, x + (prng.chance(0.5) ? 1 : -1) * (1 + prng.int(3)))
  return (src, _dst, msg) => {
    if (src !== byz || !prng.chance(p)) return [msg]
    const roll = prng.int(10)
    if (roll === 0) return [create(MessageSchema, { type: Message_Type.CONSENSUS, payload: randomBytes(prng, prng.int(64)) })]
    if (roll === 1) return [create(MessageSchema, { ...msg, payload: msg.payload.subarray(0, prng.int(msg.payload.length)) })]
    const m = pbftOf(msg)
    if (m === undefined || m.type === 'requestBatch' || m.type === 'returnRequestBatch') return [msg]
    const f = { ...m.msg } as Record<string, unknown>
    const fields = Object.keys(f).filter(k => k !== 'replicaId' && (typeof f[k] === 'number' || typeof f[k] === 'string'))
    if (fields.length === 0) return [msg]
    const field = prng.pick(fields)
    f[field] = typeof f[field] === 'number' ? nudge(f[field] as number) : String.fromCharCode(...randomBytes(prng, 8).map(b => 32 + b % 94))
    return [consensusMessage({ type: m.type, msg: f } as unknown as PbftMessage)]
  }
}

/**
 * A byzantine replica that replays: besides what it sends now, it sends each destination, again,
 * messages it sent earlier (its own, as recorded), out of order and long after.
 */
export function replayer (byz: number, prng: Prng, p = 0.5): Filter {
  const sent: Message[] = []
  return (src, _dst, msg) => {
    if (src !== byz) return [msg]
    if (sent.length < 500) sent.push(msg)
    else sent[prng.int(sent.length)] = msg
    return prng.chance(p) ? [msg, sent[prng.int(sent.length)]] : [msg]
  }
}

/** A replica that says nothing in consensus (its peer still answers state transfer). */
export function silent (byz: number): Filter {
  return (src, _dst, msg) => src === byz ? [] : [msg]
}

function randomBytes (prng: Prng, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => prng.int(256))
}
