import { create } from '@bufbuild/protobuf'
import { ChaincodeEventSchema } from '../protos/chaincodeevent_pb.ts'
import { BlockchainInfoSchema, NonHashDataSchema, type Block, type BlockchainInfo, type Transaction, type TransactionResult } from '../protos/fabric_pb.ts'
import { openColumns, StorageError, WriteBatch, type Columns, type KVStore } from '../storage/index.ts'
import { systemScheduler, type Scheduler } from '../util/scheduler.ts'
import { toHex, equalBytes } from '../crypto/bytes.ts'
import { blockHash, newBlock, timestampAt } from './block.ts'
import { Blockchain } from './blockchain.ts'
import { BucketTreeState } from './buckettree/state.ts'
import { coreYamlBucketTree } from './buckettree/config.ts'
import type { HashableState } from './hashable-state.ts'
import { decodeUint64, encodeUint64 } from './keys.ts'
import { RawState } from './raw-state.ts'
import { State } from './state.ts'
import type { StateDelta } from './state-delta.ts'

export interface LedgerOptions {
  /** ledger.state.dataStructure: buckettree (hashed, Fabric's default) or raw (no hash). */
  stateStructure?: 'buckettree' | 'raw'
  numBuckets?: number
  maxGroupingAtEachLevel?: number
  /** ledger.state.deltaHistorySize: how many blocks' deltas are kept (500). */
  deltaHistorySize?: number
  /** Its clock stamps each block's local commit time (the ledger arms no timers). */
  scheduler?: Pick<Scheduler, 'now'>
}

export interface CommittedBlock {
  number: number
  hash: Uint8Array
  block: Block
}

/** A block from another peer with its hash, checked by the caller against the chain it belongs to. */
export type SyncedBlock = CommittedBlock

/** Which block the state column holds the state of; written in the same batch as that state. */
const stateBlockKey = new TextEncoder().encode('stateBlock')

/**
 * Fabric's ledger: a blockchain and a world state kept in one store, where every commit
 * (block, state, delta, indexes, height) is a single atomic write.
 */
export class Ledger {
  private currentBatch?: unknown
  private readonly listeners = new Set<(b: CommittedBlock) => void>()
  /** Hashes of the blocks stageSyncedBlocks wrote past the tip, until a commit takes them into the chain. */
  private readonly staged = new Map<number, Uint8Array>()

  private constructor (
    readonly cols: Columns,
    readonly chain: Blockchain,
    readonly state: State,
    private readonly scheduler: Pick<Scheduler, 'now'>,
    private stateBlock: number
  ) {}

  static async open (store: KVStore, options: LedgerOptions = {}): Promise<Ledger> {
    const cols = openColumns(store)
    const chain = await Blockchain.open(cols)
    const impl: HashableState = options.stateStructure === 'raw'
      ? new RawState(cols.state)
      : await BucketTreeState.open(cols.state, {
        numBuckets: options.numBuckets ?? coreYamlBucketTree.numBuckets,
        maxGroupingAtEachLevel: options.maxGroupingAtEachLevel ?? coreYamlBucketTree.maxGroupingAtEachLevel
      })
    const state = new State(impl, cols.stateDelta, options.deltaHistorySize ?? 500)
    const sb = await cols.persist.get(stateBlockKey)
    const ledger = new Ledger(cols, chain, state, options.scheduler ?? systemScheduler, sb === undefined ? chain.height - 1 : Number(decodeUint64(sb)))
    await ledger.checkStateHash()
    // Left by a state transfer that stopped with the process.
    await ledger.discardStagedBlocks()
    return ledger
  }

  /** The state must hash to the stateHash of the block it belongs to, or the store is torn. */
  private async checkStateHash (): Promise<void> {
    if (this.stateBlock < 0 || this.state.impl instanceof RawState) return
    const block = await this.chain.getBlock(this.stateBlock)
    if (block === undefined) throw new StorageError('CORRUPT', `ledger in ${this.cols.store.location} is corrupt: state belongs to block ${this.stateBlock}, which is missing`)
    const actual = await this.state.getHash() ?? new Uint8Array(0)
    if (!equalBytes(actual, block.stateHash)) {
      throw new StorageError('CORRUPT', `ledger in ${this.cols.store.location} is corrupt: state hash ${toHex(actual) || '(empty)'} differs from block ${this.stateBlock}'s ${toHex(block.stateHash) || '(empty)'}`)
    }
  }

  close (): Promise<void> { return this.cols.store.close() }

  /** Called after every block is written (commit, or state transfer). */
  onBlock (listener: (b: CommittedBlock) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  get height (): number { return this.chain.height }
  /** The block whose state the world state currently holds. */
  get stateBlockNumber (): number { return this.stateBlock }

  // --- transaction batches, as the executor drives them ---

  beginTxBatch (id: unknown): void {
    if (this.currentBatch !== undefined) throw new Error(`another batch (${String(this.currentBatch)}) is in progress`)
    this.currentBatch = id
  }

  txBegin (txid: string): void { this.state.txBegin(txid) }
  txFinished (txid: string, success: boolean): void { this.state.txFinish(txid, success) }

  getState (chaincodeID: string, key: string, committed: boolean): Promise<Uint8Array | null> {
    return this.state.get(chaincodeID, key, committed)
  }

  async setState (chaincodeID: string, key: string, value: Uint8Array): Promise<void> {
    if (key === '') throw new Error('an empty key is not supported')
    await this.state.set(chaincodeID, key, value)
  }

  deleteState (chaincodeID: string, key: string): Promise<void> { return this.state.delete(chaincodeID, key) }

  rangeScan (chaincodeID: string, startKey: string, endKey: string, committed: boolean): AsyncIterable<[string, Uint8Array]> {
    return this.state.rangeScan(chaincodeID, startKey, endKey, committed)
  }

  /** State hash including the batch so far (undefined = empty state). */
  getTempStateHash (): Promise<Uint8Array | undefined> { return this.state.getHash() }

  /**
   * Writes the batch as the next block: `transactions` are the successful ones; `results` has one
   * entry per executed transaction (failed ones too) and becomes nonHashData.chaincodeEvents.
   */
  async commitTxBatch (id: unknown, transactions: Transaction[], results: TransactionResult[] | undefined, consensusMetadata?: Uint8Array): Promise<CommittedBlock> {
    return await this.endBatch(id, async () => {
      const block = newBlock(transactions, consensusMetadata)
      block.stateHash = await this.state.getHash() ?? new Uint8Array(0)
      block.nonHashData = create(NonHashDataSchema, {
        localLedgerCommitTimestamp: timestampAt(this.scheduler.now()),
        chaincodeEvents: (results ?? []).map(r => r.chaincodeEvent ?? create(ChaincodeEventSchema))
      })
      const number = this.chain.height
      const { hash } = await this.writeState(number, async batch => {
        const appended = this.chain.appendToBatch(block, batch)
        await this.state.addChangesForPersistence(number, batch)
        return appended
      })
      return this.appended(number, hash, block)
    })
  }

  rollbackTxBatch (id: unknown): void {
    this.checkBatch(id)
    this.reset(false)
  }

  // --- reading the chain ---

  async getBlockchainInfo (): Promise<BlockchainInfo> {
    if (this.chain.height === 0) return create(BlockchainInfoSchema, { height: 0n })
    const last = (await this.chain.getBlock(this.chain.height - 1))!
    return create(BlockchainInfoSchema, {
      height: BigInt(this.chain.height),
      currentBlockHash: this.chain.currentBlockHash,
      previousBlockHash: last.previousBlockHash
    })
  }

  async getBlockByNumber (n: number): Promise<Block | undefined> {
    if (!Number.isSafeInteger(n) || n < 0 || n >= this.chain.height) return undefined
    return this.chain.getBlock(n)
  }

  async getBlockByHash (hash: Uint8Array): Promise<Block | undefined> {
    const n = await this.chain.blockNumberByHash(hash)
    return n === undefined || n >= this.chain.height ? undefined : this.chain.getBlock(n)
  }

  getTransactionByID (txid: string): Promise<Transaction | undefined> { return this.chain.getTransaction(txid) }

  /** Whether each txid is on the chain, read together: the executor's duplicate check for a whole batch. */
  hasTransactions (txids: string[]): Promise<boolean[]> { return this.chain.hasTransactions(txids) }

  /**
   * Walks back from `high` to `low` checking each block's previousBlockHash; returns the lowest
   * block number down to which the chain is intact (Fabric's VerifyChain).
   */
  async verifyChain (high: number, low: number): Promise<number> {
    if (high >= this.chain.height || high < low) throw new RangeError(`verifyChain(${high}, ${low}) out of bounds (height ${this.chain.height})`)
    let current = await this.chain.getBlock(high)
    for (let i = high; i > low; i--) {
      const previous = await this.chain.getBlock(i - 1)
      if (current === undefined || previous === undefined || !equalBytes(blockHash(previous), current.previousBlockHash)) return i
      current = previous
    }
    return low
  }

  // --- state transfer ---

  async getStateDelta (n: number): Promise<StateDelta | undefined> {
    if (n < 0 || n >= this.chain.height) return undefined
    return this.state.fetchStateDelta(n)
  }

  /** Every committed (compositeKey, value) and the block it belongs to, read while no commit can interleave. */
  async stateSnapshot (): Promise<{ blockNumber: number, entries: [Uint8Array, Uint8Array][] }> {
    if (this.currentBatch !== undefined) throw new Error('cannot snapshot state while a batch is in progress')
    const blockNumber = this.stateBlock
    const entries: [Uint8Array, Uint8Array][] = []
    for await (const e of this.state.impl.snapshotEntries()) entries.push(e)
    return { blockNumber, entries }
  }

  /** Stores a block received from another peer as block `n`, without touching state. */
  async putRawBlock (block: Block, n: number): Promise<void> {
    const { hash } = await this.write(batch => this.chain.putToBatch(block, n, batch))
    this.appended(n, hash, block)
  }

  /**
   * State transfer: writes verified blocks past the tip in one store write without making them
   * part of the chain (the height stays, they cannot be read), so that storing them overlaps
   * fetching the rest; commitSyncedBlock then takes them in with the state above them.
   */
  async stageSyncedBlocks (blocks: readonly SyncedBlock[]): Promise<void> {
    for (const { number } of blocks) {
      if (!Number.isSafeInteger(number) || number < this.chain.height) throw new RangeError(`cannot stage block ${number}: the chain has height ${this.chain.height}`)
    }
    await this.write(batch => {
      for (const { number, block, hash } of blocks) this.chain.stageToBatch(block, number, hash, batch)
    })
    for (const { number, hash } of blocks) this.staged.set(number, hash)
  }

  /**
   * Removes what stageSyncedBlocks wrote and no commit took in (a state transfer that failed),
   * with the hash and txid index entries that point at it: the next block at that number may be
   * another.
   */
  async discardStagedBlocks (): Promise<void> {
    this.staged.clear()
    await this.write(async batch => { await this.chain.discardPastTipToBatch(batch) })
  }

  /** A block stageSyncedBlocks wrote, not yet part of the chain. */
  async getStagedBlock (n: number): Promise<Block | undefined> {
    return this.staged.has(n) ? await this.chain.getBlock(n) : undefined
  }

  /**
   * State transfer: stores block `n`, received from another peer, together with the state that
   * applyStateDelta prepared, in one atomic write. That state must hash to the block's stateHash
   * (else nothing is written and the delta is dropped). `recordDelta` keeps the applied delta as
   * block n's delta, for a delta that led from block n-1's state (not for a whole snapshot).
   * `below` are the verified blocks numbered up to n-1 that come with it (staged ones are not
   * written again), for a state that skips them.
   */
  async commitSyncedBlock (id: unknown, n: number, block: Block, recordDelta: boolean, below: readonly SyncedBlock[] = []): Promise<CommittedBlock> {
    return await this.endBatch(id, async () => {
      const low = n - below.length
      if (!Number.isSafeInteger(n) || low < 0 || low > this.chain.height) throw new RangeError(`cannot store synced block ${n}: the chain has height ${this.chain.height}`)
      if (below.some((b, i) => b.number !== low + i)) throw new RangeError(`the blocks below synced block ${n} are not ${low}-${n - 1}`)
      if (!(this.state.impl instanceof RawState)) {
        const actual = await this.state.getHash() ?? new Uint8Array(0)
        if (!equalBytes(actual, block.stateHash)) {
          throw new Error(`state hash ${toHex(actual) || '(empty)'} after the applied delta differs from block ${n}'s ${toHex(block.stateHash) || '(empty)'}`)
        }
      }
      const { hash } = await this.writeState(n, async batch => {
        for (const b of below) {
          const staged = this.staged.get(b.number)
          if (staged === undefined || !equalBytes(staged, b.hash)) this.chain.stageToBatch(b.block, b.number, b.hash, batch)
        }
        const put = this.chain.putToBatch(block, n, batch)
        if (recordDelta) await this.state.addChangesForPersistence(n, batch)
        else await this.state.addStateChanges(batch)
        return put
      })
      for (const b of below) this.appended(b.number, b.hash, b.block)
      return this.appended(n, hash, block)
    })
  }

  applyStateDelta (id: unknown, delta: StateDelta): void {
    this.beginTxBatch(id)
    this.state.applyStateDelta(delta)
  }

  /** Writes the applied delta, which brings the state to that of block `blockNumber`. */
  async commitStateDelta (id: unknown, blockNumber: number): Promise<void> {
    return await this.endBatch(id, async () => {
      await this.writeState(blockNumber, async batch => { await this.state.addStateChanges(batch) })
    })
  }

  rollbackStateDelta (id: unknown): void {
    this.checkBatch(id)
    this.reset(false)
  }

  /** Runs the commit of batch `id`; if it fails, the batch's changes are dropped. */
  private async endBatch<T> (id: unknown, commit: () => Promise<T>): Promise<T> {
    this.checkBatch(id)
    try {
      return await commit()
    } catch (err) {
      this.reset(false)
      throw err
    }
  }

  /**
   * One store write of what `fill` adds to a batch, in the store's own batch (LevelDB copies each
   * op as it is added, so a block's ops need not all live until the write); nothing is written
   * if `fill` throws or adds nothing.
   */
  private async write<T> (fill: (batch: WriteBatch) => T | Promise<T>): Promise<T> {
    const batch = new WriteBatch(this.cols.store.batch())
    try {
      const result = await fill(batch)
      if (batch.length > 0) await this.cols.store.write(batch.ops)
      else batch.ops.discard()
      return result
    } catch (err) {
      batch.ops.discard()
      throw err
    }
  }

  /** Ends the batch in progress by writing what `fill` adds, which brings the stored state to that of block `stateBlock`, in one go. */
  private async writeState<T> (stateBlock: number, fill: (batch: WriteBatch) => Promise<T>): Promise<T> {
    const result = await this.write(async batch => {
      const r = await fill(batch)
      batch.put(this.cols.persist, stateBlockKey, encodeUint64(stateBlock))
      return r
    })
    this.stateBlock = stateBlock
    this.reset(true)
    return result
  }

  /** Block `n` is stored: the chain grows to hold it and listeners hear of it. */
  private appended (n: number, hash: Uint8Array, block: Block): CommittedBlock {
    this.staged.delete(n)
    this.chain.persisted(n, hash)
    const committed = { number: n, hash, block }
    for (const l of this.listeners) l(committed)
    return committed
  }

  private checkBatch (id: unknown): void {
    if (this.currentBatch !== id) throw new Error(`batch ${String(id)} is not the one in progress (${String(this.currentBatch ?? 'none')})`)
  }

  private reset (persisted: boolean): void {
    this.currentBatch = undefined
    this.state.clearInMemoryChanges(persisted)
  }
}

/** Fabric's MakeGenesis: an empty block 0 on an empty chain. */
export async function makeGenesis (ledger: Ledger): Promise<void> {
  if (ledger.height > 0) return
  ledger.beginTxBatch(0)
  await ledger.commitTxBatch(0, [], undefined)
}
