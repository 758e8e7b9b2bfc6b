// The answering side of sync: blocks, state snapshot and state deltas sent to a remote peer
// that asked for them. Each runs on its own, so the receive loop keeps going meanwhile.
import { fromUtf8 } from '../crypto/bytes.ts'
import { splitCompositeKey } from '../ledger/keys.ts'
import { StateDelta } from '../ledger/state-delta.ts'
import type { Block, Message, SyncBlockRange, SyncStateSnapshotRequest } from '../protos/fabric_pb.ts'
import { createLogger } from '../util/logger.ts'
import { syncBlocksMessage, syncDeltasMessage, syncSnapshotMessage } from './messages.ts'
import { errorMessage } from '../util/errors.ts'

const log = createLogger('peer')

/** The local ledger as sync serves it. */
export interface SyncSource {
  getBlockByNumber (n: number): Promise<Block | undefined>
  getStateDelta (n: number): Promise<StateDelta | undefined>
  getStateSnapshot (): Promise<{ blockNumber: number, entries: [Uint8Array, Uint8Array][] }>
}

/** The remote peer being answered (a PeerHandler is one). */
export interface SyncRequester {
  /** For logs. */
  readonly name: string
  sendMessage (msg: Message): Promise<void>
}

/** Snapshot chunks group keys up to about this many bytes (Fabric sends one key per chunk; any grouping decodes the same). */
const SNAPSHOT_CHUNK_BYTES = 64 * 1024

/** start..end inclusive, descending when start > end, never below zero. */
function * blockNumbers (start: bigint, end: bigint): Generator<bigint> {
  if (start > end) for (let n = start; n >= end; n--) yield n
  else for (let n = start; n <= end; n++) yield n
}

function asIndex (n: bigint): number | undefined {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : undefined
}

/** One SYNC_BLOCKS per block; at the first block it lacks, says so with an empty SYNC_BLOCKS and stops. */
export async function sendBlocks (h: SyncRequester, src: SyncSource, range: SyncBlockRange): Promise<void> {
  const cid = range.correlationId
  try {
    for (const n of blockNumbers(range.start, range.end)) {
      const i = asIndex(n)
      const block = i === undefined ? undefined : await src.getBlockByNumber(i)
      await h.sendMessage(syncBlocksMessage(cid, n, block))
      if (block === undefined) {
        log.warn(`${h.name} asked for block ${n}, which this peer does not have; stopped sending blocks ${range.start}-${range.end}`)
        return
      }
    }
  } catch (err) {
    log.error(`Error sending blocks ${range.start}-${range.end} to ${h.name}: ${errorMessage(err)}`)
  }
}

/** The whole committed state in chunks, then an empty chunk that ends it. */
export async function sendStateSnapshot (h: SyncRequester, src: SyncSource, request: SyncStateSnapshotRequest): Promise<void> {
  try {
    const snap = await src.getStateSnapshot()
    const blockNumber = BigInt(snap.blockNumber)
    let sequence = 0n
    let delta = new StateDelta()
    let size = 0
    const flush = async (): Promise<void> => {
      await h.sendMessage(syncSnapshotMessage(request, sequence++, blockNumber, delta.marshal()))
      delta = new StateDelta()
      size = 0
    }
    for (const [composite, value] of snap.entries) {
      const [cc, key] = splitCompositeKey(composite)
      delta.set(fromUtf8(cc), fromUtf8(key), value, null)
      size += composite.length + value.length
      if (size >= SNAPSHOT_CHUNK_BYTES) await flush()
    }
    if (size > 0) await flush()
    await h.sendMessage(syncSnapshotMessage(request, sequence === 0n ? 1n : sequence, blockNumber, new Uint8Array(0)))
  } catch (err) {
    log.error(`Error sending state snapshot (correlationId ${request.correlationId}) to ${h.name}: ${errorMessage(err)}`)
  }
}

/** One SYNC_STATE_DELTAS per block; a delta no longer in history is answered with no delta, and ends it. */
export async function sendStateDeltas (h: SyncRequester, src: SyncSource, range: SyncBlockRange): Promise<void> {
  try {
    for (const n of blockNumbers(range.start, range.end)) {
      const i = asIndex(n)
      const delta = i === undefined ? undefined : await src.getStateDelta(i)
      await h.sendMessage(syncDeltasMessage(range.correlationId, n, delta?.marshal()))
      if (delta === undefined) {
        log.warn(`Requested to send a stateDelta for blockNum ${n} which has been discarded`)
        return
      }
    }
  } catch (err) {
    log.error(`Error sending state deltas ${range.start}-${range.end} to ${h.name}: ${errorMessage(err)}`)
  }
}
