import type { WriteBatch } from '../storage/columns.ts'
import type { StateDelta } from './state-delta.ts'

/**
 * What the state layer needs from a state implementation (Fabric's statemgmt.HashableState):
 * committed reads, a hash of committed state plus a pending delta, and that delta's writes.
 */
export interface HashableState {
  get (chaincodeID: string, key: string): Promise<Uint8Array | null>
  /** Sets the pending delta the next hash and persistence are computed for. */
  prepareWorkingSet (delta: StateDelta): void
  /** Hash of committed state with the pending delta applied; undefined = empty state. */
  computeCryptoHash (): Promise<Uint8Array | undefined>
  addChangesForPersistence (batch: WriteBatch): Promise<void>
  /** After the batch was written (persisted) or abandoned. */
  clearWorkingSet (persisted: boolean): void
  /** Committed keys of one chaincode in [startKey, endKey] ('' = no end), in the implementation's order. */
  rangeScan (chaincodeID: string, startKey: string, endKey: string): AsyncIterable<[string, Uint8Array]>
  /** Every committed (compositeKey, value), for state snapshots. */
  snapshotEntries (): AsyncIterable<[Uint8Array, Uint8Array]>
}
