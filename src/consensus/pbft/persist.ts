import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import { PQsetSchema, request_batchSchema } from '../../protos/pbft_pb.ts'
import { createLogger } from '../../util/logger.ts'
import type { StatePersistor } from '../interfaces.ts'
import { batchDigest, marshalBatch, type PQ, type RequestBatch } from './messages.ts'
import { errorMessage } from '../../util/errors.ts'

const log = createLogger('consensus/pbft')

/** What a replica wrote before it stopped, read back at start (Fabric's restoreState input). */
export interface PersistedPbftState {
  pset: PQ[]
  qset: PQ[]
  /** Request batches by digest. */
  reqBatches: Map<string, RequestBatch>
  /** Own checkpoints: sequence number → checkpoint id (marshaled BlockchainInfo). */
  checkpoints: Map<number, Uint8Array>
}

export function emptyPersistedState (): PersistedPbftState {
  return { pset: [], qset: [], reqBatches: new Map(), checkpoints: new Map() }
}

/**
 * The PBFT state that must survive a crash, under Fabric's keys: `pset`, `qset` (PQset),
 * `reqBatch.<digest>` (request_batch), `chkpt.<seqNo>` (checkpoint id bytes).
 */
export class PbftStore {
  private readonly batchDigests = new Set<string>()
  private readonly dirtySets = new Map<'pset' | 'qset', () => Iterable<PQ>>()

  constructor (private readonly persistor: StatePersistor, loaded?: PersistedPbftState) {
    for (const d of loaded?.reqBatches.keys() ?? []) this.batchDigests.add(d)
  }

  static async load (persistor: StatePersistor): Promise<PersistedPbftState> {
    const state = emptyPersistedState()
    state.pset = await readPQ(persistor, 'pset')
    state.qset = await readPQ(persistor, 'qset')
    for (const [key, raw] of await persistor.readStateSet('reqBatch.')) {
      try {
        const batch = fromBinary(request_batchSchema, raw)
        state.reqBatches.set(batchDigest(batch), batch)
      } catch (err) {
        log.warn(`could not restore request batch ${key}: ${errorMessage(err)}`)
      }
    }
    for (const [key, id] of await persistor.readStateSet('chkpt.')) {
      const m = /^chkpt\.(\d+)$/.exec(key)
      if (m === null || !Number.isSafeInteger(Number(m[1]))) log.warn(`could not restore checkpoint key ${key}`)
      else state.checkpoints.set(Number(m[1]), id)
    }
    return state
  }

  /**
   * The P and Q sets change with every prepare; they are computed and written once per turn of
   * the event loop, after the handler that changed them, rather than once per message.
   */
  storePSet (set: () => Iterable<PQ>): void { this.markDirty('pset', set) }
  storeQSet (set: () => Iterable<PQ>): void { this.markDirty('qset', set) }

  private markDirty (key: 'pset' | 'qset', set: () => Iterable<PQ>): void {
    if (this.dirtySets.size === 0) {
      queueMicrotask(() => {
        for (const [k, compute] of this.dirtySets) this.persistor.storeState(k, encodePQ(compute()))
        this.dirtySets.clear()
      })
    }
    this.dirtySets.set(key, set)
  }

  storeRequestBatch (digest: string, batch: RequestBatch): void {
    this.batchDigests.add(digest)
    this.persistor.storeState(`reqBatch.${digest}`, marshalBatch(batch))
  }

  delRequestBatch (digest: string): void {
    if (!this.batchDigests.delete(digest)) return
    this.persistor.delState(`reqBatch.${digest}`)
  }

  storeCheckpoint (seqNo: number, id: Uint8Array): void { this.persistor.storeState(`chkpt.${seqNo}`, id) }
  delCheckpoint (seqNo: number): void { this.persistor.delState(`chkpt.${seqNo}`) }
}

function encodePQ (set: Iterable<PQ>): Uint8Array {
  return toBinary(PQsetSchema, create(PQsetSchema, {
    set: [...set].map(p => ({ sequenceNumber: BigInt(p.seqNo), batchDigest: p.digest, view: BigInt(p.view) }))
  }))
}

async function readPQ (persistor: StatePersistor, key: string): Promise<PQ[]> {
  const raw = await persistor.readState(key)
  if (raw === undefined) return []
  try {
    return fromBinary(PQsetSchema, raw).set
      .filter(p => p.sequenceNumber <= BigInt(Number.MAX_SAFE_INTEGER) && p.view <= BigInt(Number.MAX_SAFE_INTEGER))
      .map(p => ({ seqNo: Number(p.sequenceNumber), digest: p.batchDigest, view: Number(p.view) }))
  } catch (err) {
    log.error(`could not restore ${key}, local PBFT state is damaged: ${errorMessage(err)}`)
    return []
  }
}
