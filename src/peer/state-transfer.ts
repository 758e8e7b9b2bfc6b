// Fabric's state transfer (core/peer/statetransfer): fetch the chain backwards from a trusted
// (block number, hash), checking every link, then bring the state up to it with per-block
// deltas, or with a whole snapshot when too many deltas are needed or they are gone. Every
// state is checked against its block's stateHash before it is adopted.
import { equalBytes, toHex } from '../crypto/bytes.ts'
import { blockHash } from '../ledger/block.ts'
import type { Ledger, SyncedBlock } from '../ledger/ledger.ts'
import { StateDelta } from '../ledger/state-delta.ts'
import type { Block, SyncBlocks } from '../protos/fabric_pb.ts'
import { createLogger } from '../util/logger.ts'
import { randomInt, TimeoutError, type Random } from '../util/scheduler.ts'
import { BlockStager } from './block-stager.ts'
import type { Channel } from './channel.ts'
import { MisbehaviourError } from './errors.ts'
import type { PeerHandler } from './handler.ts'
import type { OpenRequest } from './sync-request.ts'
import { replacementDelta, SnapshotAssembler } from './snapshot.ts'
import { errorMessage } from '../util/errors.ts'

const log = createLogger('statetransfer')

export interface StateTransferConfig {
  /** Blocks asked for at once (Fabric: peer.sync.blocks.channelSize, 10). */
  blocksPerRequest: number
  /** Deltas asked for at once (peer.sync.state.deltas.channelSize, 20). */
  deltasPerRequest: number
  /** More blocks than this behind: fetch a snapshot instead of deltas (statetransfer.maxdeltas, 200). */
  maxDeltas: number
  /** statetransfer.timeout.singleblock / singlestatedelta / fullstate (ms). */
  blockTimeout: number
  deltaTimeout: number
  snapshotTimeout: number
  /** Verified blocks kept in memory between the chain and the state phase; beyond it they are read back or fetched again. */
  maxBufferedBlocks: number
  /** Block requests kept in flight to one peer while the chain is fetched (each of blocksPerRequest). */
  requestsInFlight: number
  /** Verified blocks stored per write while the rest of the chain is fetched, when a snapshot will skip their deltas. */
  blocksPerWrite: number
}

export const defaultStateTransferConfig: StateTransferConfig = {
  blocksPerRequest: 10, deltasPerRequest: 20, maxDeltas: 200, blockTimeout: 2000, deltaTimeout: 2000, snapshotTimeout: 60_000, maxBufferedBlocks: 10_000, requestsInFlight: 8, blocksPerWrite: 250
}

/** What state transfer needs from the peer coordinator (Fabric's PartialStack). */
export interface TransferStack {
  readonly ledger: Ledger
  readonly random: Random
  handlerFor (peerID: string): PeerHandler | undefined
  /** Every chat with that peer, the registered one first (default: that one only). */
  chatsWith? (peerID: string): PeerHandler[]
  /** Every connected peer, for a transfer not told whom to ask. */
  peerIDs (): string[]
  /** Disconnects a peer caught sending bad blocks, deltas or state. */
  dropPeer (peerID: string, reason: string): void
}

export type SyncResult = { ok: true, blockNumber: number } | { ok: false, error: Error, recoverable: boolean }

export interface SyncOptions {
  /**
   * A snapshot newer than the target is taken, with the blocks from the target up to it, when
   * those link onto the target. For catching up, where the target is itself only what peers
   * said; consensus, whose target is certified, leaves it off (as Fabric: such a snapshot fails).
   */
  acceptNewerSnapshot?: boolean
  /** Once it aborts no further request goes out, and the transfer fails without trying other peers. */
  signal?: AbortSignal
}

/** The peer no longer keeps a delta we need: a snapshot is needed. */
class DeltasGoneError extends Error { override name = 'DeltasGoneError' }
/** Nothing another peer could fix (the local chain has forked, or the target is behind our state). */
class FatalTransferError extends Error { override name = 'FatalTransferError' }

/** Hashes of the target chain, proven by linking down from the target, and the blocks themselves while they fit. */
class VerifiedChain {
  readonly hashes = new Map<number, Uint8Array>()
  readonly blocks = new Map<number, Block>()
  constructor (private readonly budget: number) {}
  add (n: number, hash: Uint8Array, block?: Block): void {
    this.hashes.set(n, hash)
    if (block !== undefined && this.blocks.size < this.budget) this.blocks.set(n, block)
  }
}

export class StateTransfer {
  private queue: Promise<unknown> = Promise.resolve()
  private excluded = new Set<string>()
  private acceptNewerSnapshot = false
  private signal?: AbortSignal

  constructor (private readonly stack: TransferStack, private readonly config: StateTransferConfig) {}

  /** Runs `fn` once no transfer or other state change by the peer is running. */
  exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => {})
    return run
  }

  /**
   * Brings ledger and state to block `blockNumber` whose hash is `blockHash`, asking `peerIDs`
   * (every connected peer when omitted). `recoverable` says whether a later attempt may succeed.
   */
  syncToTarget (blockNumber: number, blockHash: Uint8Array, peerIDs?: string[], options: SyncOptions = {}): Promise<SyncResult> {
    return this.exclusive(async () => {
      log.info(`Syncing to target ${toHex(blockHash).slice(0, 16)}… for block number ${blockNumber}`)
      this.excluded = new Set()
      this.acceptNewerSnapshot = options.acceptNewerSnapshot === true
      this.signal = options.signal
      try {
        this.signal?.throwIfAborted()
        await this.transfer(blockNumber, blockHash, this.order(peerIDs ?? this.stack.peerIDs()))
        const reached = this.stack.ledger.stateBlockNumber
        log.info(`State transfer reached block ${reached}`)
        return { ok: true, blockNumber: reached }
      } catch (err) {
        const aborted = this.signal?.aborted === true
        const error = aborted ? abortReason(this.signal!) : err as Error
        log.warn(`State transfer to block ${blockNumber} ${aborted ? 'was aborted' : 'failed'}: ${errorMessage(error)}`)
        return { ok: false, error, recoverable: !aborted && !(err instanceof FatalTransferError) }
      } finally {
        this.signal = undefined
      }
    })
  }

  private async transfer (target: number, targetHash: Uint8Array, peers: string[]): Promise<void> {
    const ledger = this.stack.ledger
    const s = ledger.stateBlockNumber
    if (!Number.isSafeInteger(target) || target < s) {
      throw new FatalTransferError(`cannot sync to block ${target}: the state already belongs to block ${s}`)
    }
    const chain = new VerifiedChain(this.config.maxBufferedBlocks)
    if (target - s <= this.config.maxDeltas) {
      await this.fetchChain(chain, target, targetHash, s, peers)
      await this.toTarget(chain, s, target, peers)
      return
    }
    // A snapshot will skip the blocks' deltas: the blocks can be stored while the rest are fetched.
    const stager = new BlockStager(ledger, this.config.blocksPerWrite)
    try {
      await this.fetchChain(chain, target, targetHash, s, peers, stager)
      await stager.flush()
      await this.toTarget(chain, s, target, peers)
    } finally {
      // No write of ours may land after the transfer ends, nor a staged block stay unclaimed.
      await stager.settled().catch(() => {})
      await ledger.discardStagedBlocks().catch(err => { log.error(`Could not remove the blocks staged for block ${target}: ${errorMessage(err)}`) })
    }
  }

  /** With the chain verified: the state from block `s` to the target, by deltas or a snapshot. */
  private async toTarget (chain: VerifiedChain, s: number, target: number, peers: string[]): Promise<void> {
    if (target === s) return
    if (target - s <= this.config.maxDeltas) {
      try {
        await this.playDeltas(chain, s + 1, target, peers)
        return
      } catch (err) {
        if (!(err instanceof DeltasGoneError)) throw err
        log.info(`${errorMessage(err)}; falling back to a state snapshot`)
      }
    }
    const at = await this.syncSnapshot(chain, this.stack.ledger.stateBlockNumber, target, peers)
    if (at < target) await this.playDeltas(chain, at + 1, target, peers)
  }

  /**
   * Walks down from the target to the block above `s`, each block's hash linking to the one
   * above, and the last onto block `s` (already verified, or the local one). Fetched blocks go
   * to `stager` as well, when given.
   */
  private async fetchChain (chain: VerifiedChain, target: number, targetHash: Uint8Array, s: number, peers: string[], stager?: BlockStager): Promise<void> {
    const ledger = this.stack.ledger
    let cursor = target
    let expected = targetHash
    // Blocks already here and valid need not be fetched.
    while (cursor > s && cursor < ledger.height) {
      const b = await ledger.getBlockByNumber(cursor)
      if (b === undefined || !equalBytes(blockHash(b), expected)) break
      chain.add(cursor, expected)
      expected = b.previousBlockHash
      cursor--
    }
    if (cursor > s) {
      await this.tryOverPeers(peers, `blocks ${cursor} down to ${s + 1}`, async (h, id) => {
        // Requests for the next ranges down go out before the answers to the first are in; their
        // answers are checked and kept in order, top down.
        const inFlight: Array<{ low: number, request: OpenRequest<SyncBlocks> }> = []
        let unasked = cursor
        try {
          while (cursor > s) {
            while (unasked > s && inFlight.length < this.config.requestsInFlight) {
              const low = Math.max(s + 1, unasked - this.config.blocksPerRequest + 1)
              inFlight.push({ low, request: await h.openBlockRequest(BigInt(unasked), BigInt(low)) })
              unasked = low - 1
            }
            const { low, request } = inFlight[0]
            while (cursor >= low) {
              const sb = await next(request.channel, this.config.blockTimeout, `blocks ${cursor}-${low} from ${id}`, this.signal)
              const r = sb.range!
              if (r.start < r.end) throw new MisbehaviourError(`${id} sent blocks in increasing order (${r.start}-${r.end}) when asked for them backwards`)
              if (sb.blocks.length === 0) throw new Error(`${id} does not have block ${cursor}`)
              for (const [i, block] of sb.blocks.entries()) {
                if (r.start - BigInt(i) !== BigInt(cursor) || cursor < low) throw new MisbehaviourError(`${id} sent block ${r.start - BigInt(i)} when block ${cursor} was due`)
                const hash = blockHash(block)
                if (!equalBytes(hash, expected)) {
                  // The top block only tells us the peer has another head; below it, a broken link is a lie.
                  const msg = `block ${cursor} from ${id} has hash ${toHex(hash).slice(0, 16)}…, the chain needs ${toHex(expected).slice(0, 16)}…`
                  throw cursor === target ? new Error(msg) : new MisbehaviourError(msg)
                }
                chain.add(cursor, hash, block)
                await stager?.add({ number: cursor, block, hash })
                expected = block.previousBlockHash
                cursor--
              }
            }
            request.close()
            inFlight.shift()
          }
        } finally {
          for (const { request } of inFlight) request.close()
        }
      })
    }
    if (s < 0) return
    const verified = chain.hashes.get(s)
    if (verified !== undefined) {
      if (!equalBytes(verified, expected)) throw new MisbehaviourError(`the blocks above block ${s} do not link onto it`)
      return
    }
    const local = await ledger.getBlockByNumber(s)
    const localHash = local === undefined ? new Uint8Array(0) : blockHash(local)
    if (!equalBytes(localHash, expected)) {
      throw new FatalTransferError(`the target chain does not build on local block ${s} (${toHex(localHash).slice(0, 16)}…): this ledger has forked from the peers'`)
    }
  }

  /** Plays deltas from..to onto the state, committing each block with the state it leads to. */
  private async playDeltas (chain: VerifiedChain, from: number, to: number, peers: string[]): Promise<void> {
    let k = from
    await this.tryOverPeers(peers, `state deltas ${from}-${to}`, async (h, id) => {
      while (k <= to) {
        const end = Math.min(to, k + this.config.deltasPerRequest - 1)
        const ch = await h.requestStateDeltas(BigInt(k), BigInt(end))
        while (k <= end) {
          const m = await next(ch, this.config.deltaTimeout, `state deltas ${k}-${end} from ${id}`, this.signal)
          const r = m.range!
          if (r.start !== BigInt(k) || r.end < r.start || r.end > BigInt(to)) {
            throw new MisbehaviourError(`${id} sent a state delta either in the wrong order (backwards) or not next in sequence: start=${r.start}, end=${r.end}, wanted ${k}`)
          }
          if (m.deltas.length === 0) throw new DeltasGoneError(`${id} no longer has the state delta of block ${k}`)
          for (const bytes of m.deltas) {
            if (k > end) break
            let delta: StateDelta
            try {
              delta = StateDelta.unmarshal(bytes)
            } catch (err) {
              throw new MisbehaviourError(`${id} sent a corrupt state delta for block ${k}: ${(err as Error).message}`)
            }
            await this.adopt(k, await this.blockOf(chain, k, h, id), delta, true, id)
            k++
          }
        }
      }
    })
  }

  /** Fetches a whole state and adopts it with the blocks up to the one it belongs to; returns that block's number. */
  private async syncSnapshot (chain: VerifiedChain, s: number, target: number, peers: string[]): Promise<number> {
    let adopted = s
    await this.tryOverPeers(peers, 'a state snapshot', async (h, id) => {
      const ch = await h.requestStateSnapshot()
      const snapshot = new SnapshotAssembler(id)
      while (!snapshot.done) snapshot.add(await next(ch, this.config.snapshotTimeout, `the state snapshot from ${id}`, this.signal))
      const b = snapshot.blockNumber
      if (b > target) {
        if (!this.acceptNewerSnapshot) throw new Error(`the snapshot from ${id} is of block ${b}, beyond the target ${target}`)
        // The peer moved on while we fetched: take its blocks up to the snapshot if they link onto the target.
        const top = await this.fetchOne(h, id, b)
        chain.add(b, blockHash(top), top)
        await this.fetchChain(chain, b - 1, top.previousBlockHash, target, [id])
      }
      if (b <= s) throw new Error(`the snapshot from ${id} is of block ${b}, not past this peer's state at block ${s}`)
      const block = await this.blockOf(chain, b, h, id)
      const replacement = await replacementDelta(this.stack.ledger, snapshot.delta)
      const before: SyncedBlock[] = []
      for (let n = s + 1; n < b; n++) before.push({ number: n, block: await this.blockOf(chain, n, h, id), hash: chain.hashes.get(n)! })
      await this.adopt(b, block, replacement, false, id, before)
      adopted = b
    })
    return adopted
  }

  /**
   * Applies `delta`, checks the state hash against `block`, and commits block and state as one
   * write, with the verified blocks `before` it, which carry no state of their own.
   */
  private async adopt (n: number, block: Block, delta: StateDelta, recordDelta: boolean, from: string, before: SyncedBlock[] = []): Promise<void> {
    const ledger = this.stack.ledger
    const id = `statetransfer:${n}`
    ledger.applyStateDelta(id, delta)
    const hash = await ledger.getTempStateHash() ?? new Uint8Array(0)
    if (!equalBytes(hash, block.stateHash)) {
      ledger.rollbackStateDelta(id)
      throw new MisbehaviourError(`the state from ${from} for block ${n} hashes to ${toHex(hash).slice(0, 16) || '(empty)'}…, but the block says ${toHex(block.stateHash).slice(0, 16) || '(empty)'}…`)
    }
    await ledger.commitSyncedBlock(id, n, block, recordDelta, before)
  }

  /** Block `n` of the verified chain: kept in memory, already in the ledger or staged there, or fetched again and checked. */
  private async blockOf (chain: VerifiedChain, n: number, h: PeerHandler, id: string): Promise<Block> {
    const expected = chain.hashes.get(n)
    if (expected === undefined) throw new Error(`block ${n} is not part of the verified chain`)
    const kept = chain.blocks.get(n)
    if (kept !== undefined) return kept
    const ledger = this.stack.ledger
    const local = await ledger.getBlockByNumber(n) ?? await ledger.getStagedBlock(n)
    if (local !== undefined && equalBytes(blockHash(local), expected)) return local
    const block = await this.fetchOne(h, id, n)
    if (!equalBytes(blockHash(block), expected)) throw new MisbehaviourError(`block ${n} from ${id} differs from the verified chain`)
    return block
  }

  private async fetchOne (h: PeerHandler, id: string, n: number): Promise<Block> {
    const ch = await h.requestBlocks(BigInt(n), BigInt(n))
    const sb = await next(ch, this.config.blockTimeout, `block ${n} from ${id}`, this.signal)
    const block = sb.blocks[0]
    if (block === undefined) throw new Error(`${id} does not have block ${n}`)
    return block
  }

  /** Tries `fn` with each peer in turn until one succeeds; a misbehaving peer is dropped. */
  private async tryOverPeers (peers: string[], what: string, fn: (h: PeerHandler, id: string) => Promise<void>): Promise<void> {
    const errors: Error[] = []
    for (const id of peers) {
      if (this.excluded.has(id)) continue
      const registered = this.stack.handlerFor(id)
      const chats = this.stack.chatsWith?.(id) ?? (registered === undefined ? [] : [registered])
      for (const h of chats) {
        try {
          this.signal?.throwIfAborted()
          await fn(h, id)
          log.debug(`State transfer: got ${what} from ${id}${h === registered ? '' : ' (over its second chat)'}`)
          return
        } catch (err) {
          const e = err as Error
          if (this.signal?.aborted === true) throw e
          log.warn(`tryOverPeers: loop error from ${id}${h === registered ? '' : ' (second chat)'} : ${errorMessage(e)}`)
          if (e instanceof FatalTransferError) throw e
          errors.push(e)
          if (e instanceof MisbehaviourError) {
            this.excluded.add(id)
            this.stack.dropPeer(id, e.message)
            break
          }
        }
      }
    }
    if (errors.length === 0) throw new Error(`no connected peer to fetch ${what} from`)
    // One peer without the deltas is enough to switch to a snapshot, which any peer can give.
    const gone = errors.find(e => e instanceof DeltasGoneError)
    if (gone !== undefined) throw gone
    throw new Error(`could not fetch ${what} from any peer: ${errors.map(e => e.message).join('; ')}`)
  }

  /** Peers in the given order, starting at a random one (Fabric's tryOverPeers). */
  private order (peers: string[]): string[] {
    if (peers.length === 0) return peers
    const start = randomInt(this.stack.random, peers.length)
    return [...peers.slice(start), ...peers.slice(0, start)]
  }
}

async function next<T> (ch: Channel<T>, timeoutMs: number, what: string, signal?: AbortSignal): Promise<T> {
  let v: T | undefined
  try {
    v = await untilAborted(ch.next(timeoutMs), signal)
  } catch (err) {
    if (err instanceof TimeoutError) throw new Error(`timed out waiting for ${what} (${timeoutMs} ms)`)
    throw err
  }
  if (v === undefined) throw new Error(`the answer stream for ${what} closed before it was complete`)
  return v
}

/** Settles as `p` does, or rejects as soon as `signal` aborts (the answer still coming is dropped). */
function untilAborted<T> (p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p
  return new Promise((resolve, reject) => {
    const onAbort = (): void => { reject(abortReason(signal)) }
    signal.addEventListener('abort', onAbort, { once: true })
    if (signal.aborted) onAbort()
    p.then(v => { signal.removeEventListener('abort', onAbort); resolve(v) }, (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e) })
  })
}

function abortReason (signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error(`state transfer aborted: ${String(signal.reason)}`)
}
