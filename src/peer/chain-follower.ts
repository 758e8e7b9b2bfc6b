// How a peer keeps up with the chain without consensus. It tells NON_VALIDATOR peers of each
// block it commits (SYNC_BLOCK_ADDED). Receiving one that extends its own chain, it fetches the
// block in full (the announcement drops transaction payloads, so its hash cannot be checked),
// applies the delta, checks it against the block's state hash and commits both at once. A
// block it cannot place means it is behind: it catches up with the highest head peers showed.
import { toBinary } from '@bufbuild/protobuf'
import { equalBytes } from '../crypto/bytes.ts'
import { blockHash, timestampAt } from '../ledger/block.ts'
import type { CommittedBlock } from '../ledger/ledger.ts'
import { StateDelta } from '../ledger/state-delta.ts'
import { BlockSchema, PeerEndpoint_Type, type Block, type BlockState, type Message } from '../protos/fabric_pb.ts'
import { createLogger } from '../util/logger.ts'
import { randomInt, TimeoutError, type Scheduler } from '../util/scheduler.ts'
import { MisbehaviourError } from './errors.ts'
import type { PeerHandler } from './handler.ts'
import { syncBlockAddedMessage, withoutPayloads } from './messages.ts'
import type { StateTransfer, SyncResult, TransferStack } from './state-transfer.ts'
import { errorMessage } from '../util/errors.ts'

const log = createLogger('peer')

export interface FollowStack extends TransferStack {
  readonly transfer: StateTransfer
  readonly scheduler: Scheduler
  readonly blockTimeout: number
  handlers (): ReadonlyMap<string, PeerHandler>
  broadcast (msg: Message, type: PeerEndpoint_Type): Promise<Error[]>
  stopping (): boolean
}

export class ChainFollower {
  private catchingUp?: Promise<void>
  private again = false

  constructor (private readonly stack: FollowStack) {}

  /** SYNC_BLOCK_ADDED to NON_VALIDATOR peers, for a block committed together with its state. */
  async announce (c: CommittedBlock): Promise<void> {
    const { ledger } = this.stack
    try {
      if (c.number !== ledger.stateBlockNumber) return
      if (![...this.stack.handlers().values()].some(h => h.to()?.type === PeerEndpoint_Type.NON_VALIDATOR)) return
      const delta = await ledger.getStateDelta(c.number)
      if (delta === undefined) return
      const msg = syncBlockAddedMessage(c.block, delta.marshal(), timestampAt(this.stack.scheduler.now()))
      for (const e of await this.stack.broadcast(msg, PeerEndpoint_Type.NON_VALIDATOR)) log.warn(e.message)
    } catch (err) {
      log.error(`Could not announce block ${c.number}: ${errorMessage(err)}`)
    }
  }

  /** Takes one SYNC_BLOCK_ADDED; the work runs after any state transfer in progress. */
  blockAdded (from: PeerHandler, state: BlockState): void {
    const block = state.block
    if (block === undefined) throw new Error('BlockState carries no block')
    from.announced++
    this.stack.transfer.exclusive(async () => await this.follow(from, block, state.stateDelta)).catch(err => {
      const e = err as Error
      if (e instanceof MisbehaviourError) this.stack.dropPeer(from.name, e.message)
      else log.warn(`Could not add the block ${from.name} announced: ${errorMessage(e)}`)
    })
  }

  /**
   * Syncs to the highest head the connected peers have shown, asking first the peers that
   * showed it. Resolves undefined when no peer is ahead.
   */
  async catchUp (): Promise<SyncResult | undefined> {
    const mine = this.stack.ledger.stateBlockNumber
    const ahead = [...this.stack.handlers()].filter(([, h]) => h.head !== undefined && h.head.number > mine)
    if (ahead.length === 0) return undefined
    const best = ahead.reduce((a, b) => b[1].head!.number > a[1].head!.number ? b : a)[1].head!
    const same = ahead.filter(([, h]) => h.head!.number === best.number && equalBytes(h.head!.hash, best.hash)).map(([id]) => id)
    const start = randomInt(this.stack.random, same.length)
    const first = [...same.slice(start), ...same.slice(0, start)]
    const others = this.stack.peerIDs().filter(id => !first.includes(id))
    return await this.stack.transfer.syncToTarget(best.number, best.hash, [...first, ...others], { acceptNewerSnapshot: true })
  }

  /** Runs catchUp now, or once more after the one in progress. */
  scheduleCatchUp (): void {
    if (this.catchingUp !== undefined) {
      this.again = true
      return
    }
    this.catchingUp = (async () => {
      do {
        this.again = false
        const r = await this.catchUp()
        if (r !== undefined && !r.ok) log.warn(`Catching up failed: ${r.error.message}`)
      } while (this.again && !this.stack.stopping())
    })().finally(() => { this.catchingUp = undefined })
  }

  private async follow (from: PeerHandler, announced: Block, deltaBytes: Uint8Array): Promise<void> {
    const ledger = this.stack.ledger
    const height = ledger.height
    const tip = (await ledger.getBlockchainInfo()).currentBlockHash
    if (ledger.stateBlockNumber === height - 1 && equalBytes(announced.previousBlockHash, tip)) {
      const full = await this.fetchBlock(from, height)
      if (!equalBytes(toBinary(BlockSchema, withoutPayloads(full)), toBinary(BlockSchema, withoutPayloads(announced)))) {
        throw new MisbehaviourError(`${from.name} announced block ${height} but sent a different one`)
      }
      let delta: StateDelta
      try {
        delta = StateDelta.unmarshal(deltaBytes)
      } catch (err) {
        throw new MisbehaviourError(`${from.name} announced block ${height} with a corrupt state delta: ${(err as Error).message}`)
      }
      const id = `block-added:${height}`
      ledger.applyStateDelta(id, delta)
      try {
        await ledger.commitSyncedBlock(id, height, full, true)
      } catch (err) {
        throw new MisbehaviourError(`the block ${from.name} announced does not apply: ${(err as Error).message}`)
      }
      from.head = { number: height, hash: blockHash(full) }
      log.debug(`Added block ${height} announced by ${from.name}`)
      return
    }
    if (await ledger.getBlockByHash(announced.previousBlockHash) !== undefined) return // one we already have
    // Behind: the announced block's parent is the peer's head, numbered from its HELLO and the announcements since.
    const parent = Number(from.remoteInfo?.height ?? 0n) + from.announced - 2
    if (from.head === undefined || parent > from.head.number) from.head = { number: parent, hash: announced.previousBlockHash }
    this.scheduleCatchUp()
  }

  private async fetchBlock (from: PeerHandler, n: number): Promise<Block> {
    const ch = await from.requestBlocks(BigInt(n), BigInt(n))
    let sb
    try {
      sb = await ch.next(this.stack.blockTimeout)
    } catch (err) {
      if (err instanceof TimeoutError) throw new Error(`${from.name} did not send block ${n} within ${this.stack.blockTimeout} ms`)
      throw err
    }
    const block = sb?.blocks[0]
    if (block === undefined) throw new Error(`${from.name} announced block ${n} but does not send it`)
    return block
  }
}
