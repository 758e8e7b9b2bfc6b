import type { Column, WriteBatch } from '../storage/columns.ts'
import type { HashableState } from './hashable-state.ts'
import { encodeUint64 } from './keys.ts'
import { StateDelta } from './state-delta.ts'

/**
 * The world state as the executor sees it (Fabric's state.State): writes of the transaction
 * in progress, above the writes of the batch, above committed state.
 */
export class State {
  private batchDelta = new StateDelta()
  private txDelta = new StateDelta()
  private currentTx?: string
  private implNeedsUpdate = false

  constructor (
    readonly impl: HashableState,
    private readonly deltaColumn: Column,
    readonly deltaHistorySize: number
  ) {}

  get txInProgress (): string | undefined { return this.currentTx }

  txBegin (txID: string): void {
    if (this.currentTx !== undefined) throw new Error(`transaction ${this.currentTx} is in progress; cannot begin ${txID}`)
    this.currentTx = txID
  }

  /** Ends the transaction; only a successful one's writes join the batch. */
  txFinish (txID: string, success: boolean): void {
    if (this.currentTx !== txID) throw new Error(`txFinish for ${txID} but the transaction in progress is ${this.currentTx ?? 'none'}`)
    if (success && !this.txDelta.isEmpty()) {
      this.batchDelta.applyChanges(this.txDelta)
      this.implNeedsUpdate = true
    }
    this.txDelta = new StateDelta()
    this.currentTx = undefined
  }

  async get (chaincodeID: string, key: string, committed: boolean): Promise<Uint8Array | null> {
    if (!committed) {
      const u = this.txDelta.get(chaincodeID, key) ?? this.batchDelta.get(chaincodeID, key)
      if (u !== undefined) return u.value
    }
    return this.impl.get(chaincodeID, key)
  }

  async set (chaincodeID: string, key: string, value: Uint8Array): Promise<void> {
    await this.write(chaincodeID, key, value)
  }

  async delete (chaincodeID: string, key: string): Promise<void> {
    await this.write(chaincodeID, key, null)
  }

  private async write (chaincodeID: string, key: string, value: Uint8Array | null): Promise<void> {
    if (this.currentTx === undefined) throw new Error('state can only change inside a transaction (txBegin first)')
    const previous = this.txDelta.has(chaincodeID, key) ? null : await this.impl.get(chaincodeID, key)
    this.txDelta.set(chaincodeID, key, value, previous)
  }

  /**
   * Keys of a chaincode in [startKey, endKey] ('' = no end). Uncommitted: the transaction's keys,
   * then the batch's not already given, then committed ones not overridden, as Fabric's composite iterator.
   */
  async * rangeScan (chaincodeID: string, startKey: string, endKey: string, committed: boolean): AsyncIterable<[string, Uint8Array]> {
    if (!committed) {
      for (const k of this.txDelta.rangeKeys(chaincodeID, startKey, endKey)) yield [k, this.txDelta.get(chaincodeID, k)!.value!]
      for (const k of this.batchDelta.rangeKeys(chaincodeID, startKey, endKey)) {
        if (!this.txDelta.has(chaincodeID, k)) yield [k, this.batchDelta.get(chaincodeID, k)!.value!]
      }
    }
    for await (const [k, v] of this.impl.rangeScan(chaincodeID, startKey, endKey)) {
      if (!committed && (this.txDelta.has(chaincodeID, k) || this.batchDelta.has(chaincodeID, k))) continue
      yield [k, v]
    }
  }

  /** State hash with the batch applied; undefined for an empty state. */
  async getHash (): Promise<Uint8Array | undefined> {
    this.syncImpl()
    return this.impl.computeCryptoHash()
  }

  /** The batch's changes, for the block numbered `blockNumber`: state, its delta, and the delta that falls out of history. */
  async addChangesForPersistence (blockNumber: number, batch: WriteBatch): Promise<void> {
    this.syncImpl()
    await this.impl.addChangesForPersistence(batch)
    batch.put(this.deltaColumn, encodeUint64(blockNumber), this.batchDelta.marshal())
    if (blockNumber >= this.deltaHistorySize) batch.del(this.deltaColumn, encodeUint64(blockNumber - this.deltaHistorySize))
  }

  /** State transfer: adopt a whole delta as the pending batch. */
  applyStateDelta (delta: StateDelta): void {
    this.batchDelta = delta
    this.implNeedsUpdate = true
  }

  /** The pending batch's state writes only (no delta history), for state transfer. */
  async addStateChanges (batch: WriteBatch): Promise<void> {
    this.syncImpl()
    await this.impl.addChangesForPersistence(batch)
  }

  get pendingDelta (): StateDelta { return this.batchDelta }

  clearInMemoryChanges (persisted: boolean): void {
    this.batchDelta = new StateDelta()
    this.txDelta = new StateDelta()
    this.currentTx = undefined
    this.implNeedsUpdate = false
    this.impl.clearWorkingSet(persisted)
  }

  async fetchStateDelta (blockNumber: number): Promise<StateDelta | undefined> {
    const bytes = await this.deltaColumn.get(encodeUint64(blockNumber))
    return bytes === undefined ? undefined : StateDelta.unmarshal(bytes)
  }

  private syncImpl (): void {
    if (!this.implNeedsUpdate) return
    this.impl.prepareWorkingSet(this.batchDelta)
    this.implNeedsUpdate = false
  }
}
