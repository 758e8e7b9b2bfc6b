// The answering side of sync: blocks, state snapshot and state deltas sent to a remote peer
// that asked for them. Each runs on its own, so the receive loop keeps going meanwhile.
import { toBinary } from '@bufbuild/protobuf'
import { fromUtf8 } from '../crypto/bytes.ts'
import { splitCompositeKey } from '../ledger/keys.ts'
import { StateDelta } from '../ledger/state-delta.ts'
import { BlockSchema, type Block, type Message, type SyncBlockRange, type SyncStateSnapshotRequest } from '../protos/fabric_pb.ts'
import { createLogger } from '../util/logger.ts'
import { syncBlocksGroupMessage, syncBlocksMessage, syncDeltasMessage, syncSnapshotMessage } from './messages.ts'
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

/**
 * Consecutive blocks go in one SYNC_BLOCKS up to about this many bytes. Fabric sends one block
 * per message, but its receiver (statetransfer syncBlocks), like Weft's, takes every block of a
 * message in turn as block range.start, start-1, …; fewer messages cost both ends less.
 */
const BLOCKS_MESSAGE_BYTES = 64 * 1024

/** Blocks read from the store at once while answering. */
const BLOCK_READS = 16

/** The blocks of `range`, grouped; at the first block it lacks, says so with an empty SYNC_BLOCKS and stops. */
export async function sendBlocks (h: SyncRequester, src: SyncSource, range: SyncBlockRange): Promise<void> {
  const cid = range.correlationId
  const step = range.start > range.end ? -1n : 1n
  let first = range.start
  let group: Uint8Array[] = []
  let size = 0
  const flush = async (): Promise<void> => {
    if (group.length === 0) return
    await h.sendMessage(syncBlocksGroupMessage(cid, first, first + step * BigInt(group.length - 1), group))
    first += step * BigInt(group.length)
    group = []
    size = 0
  }
  try {
    for (const numbers of chunked(blockNumbers(range.start, range.end), BLOCK_READS)) {
      const blocks = await Promise.all(numbers.map(async n => {
        const i = asIndex(n)
        return i === undefined ? undefined : await src.getBlockByNumber(i)
      }))
      for (const [k, block] of blocks.entries()) {
        if (block === undefined) {
          await flush()
          await h.sendMessage(syncBlocksMessage(cid, numbers[k], undefined))
          log.warn(`${h.name} asked for block ${numbers[k]}, which this peer does not have; stopped sending blocks ${range.start}-${range.end}`)
          return
        }
        const bytes = toBinary(BlockSchema, block)
        if (size > 0 && size + bytes.length > BLOCKS_MESSAGE_BYTES) await flush()
        group.push(bytes)
        size += bytes.length
      }
    }
    await flush()
  } catch (err) {
    log.error(`Error sending blocks ${range.start}-${range.end} to ${h.name}: ${errorMessage(err)}`)
  }
}

function * chunked<T> (items: Iterable<T>, size: number): Generator<T[]> {
  let chunk: T[] = []
  for (const item of items) {
    chunk.push(item)
    if (chunk.length === size) {
      yield chunk
      chunk = []
    }
  }
  if (chunk.length > 0) yield chunk
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
