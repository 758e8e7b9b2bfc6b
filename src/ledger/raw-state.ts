import { concatBytes, fromUtf8, utf8 } from '../crypto/bytes.ts'
import type { Column, WriteBatch } from '../storage/columns.ts'
import type { HashableState } from './hashable-state.ts'
import { compositeKey, splitCompositeKey } from './keys.ts'
import type { StateDelta } from './state-delta.ts'

/** Fabric's "raw" state: keys stored as composite keys, no hash at all. For tests and experiments. */
export class RawState implements HashableState {
  private delta?: StateDelta

  constructor (private readonly column: Column) {}

  async get (chaincodeID: string, key: string): Promise<Uint8Array | null> {
    return (await this.column.get(compositeKey(chaincodeID, key))) ?? null
  }

  prepareWorkingSet (delta: StateDelta): void { this.delta = delta }

  async computeCryptoHash (): Promise<Uint8Array | undefined> { return undefined }

  async addChangesForPersistence (batch: WriteBatch): Promise<void> {
    for (const e of this.delta?.entries() ?? []) {
      const k = compositeKey(e.chaincodeID, e.key)
      if (e.value === null) batch.del(this.column, k)
      else batch.put(this.column, k, e.value)
    }
  }

  clearWorkingSet (): void { this.delta = undefined }

  async * rangeScan (chaincodeID: string, startKey: string, endKey: string): AsyncIterable<[string, Uint8Array]> {
    const gte = compositeKey(chaincodeID, startKey)
    // cc 0x01 is just past every key of the chaincode (cc 0x00 …).
    const range = endKey === '' ? { gte, lt: concatBytes(utf8(chaincodeID), Uint8Array.of(1)) } : { gte, lte: compositeKey(chaincodeID, endKey) }
    for await (const [k, v] of this.column.entries(range)) yield [fromUtf8(splitCompositeKey(k)[1]), v]
  }

  snapshotEntries (): AsyncIterable<[Uint8Array, Uint8Array]> {
    return this.column.entries()
  }
}
