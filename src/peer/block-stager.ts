import type { Ledger, SyncedBlock } from '../ledger/ledger.ts'

/**
 * Stores verified blocks past the tip (Ledger.stageSyncedBlocks) in batches while state
 * transfer fetches the rest: one write runs while the next batch fills, and a full batch waits
 * for the write before it, which bounds what is held for writing.
 */
export class BlockStager {
  private pending: SyncedBlock[] = []
  private writing?: Promise<void>
  private failure?: unknown

  constructor (private readonly ledger: Ledger, private readonly batchSize: number) {}

  /** Queues a block; blocks the ledger holds already are committed with the state instead. */
  async add (b: SyncedBlock): Promise<void> {
    if (b.number < this.ledger.height) return
    this.pending.push(b)
    if (this.pending.length >= this.batchSize) await this.write()
  }

  /** Writes what is queued and waits for every write. */
  async flush (): Promise<void> {
    await this.write()
    await this.settled()
  }

  /** Waits for the write in progress; rejects if a write failed. */
  async settled (): Promise<void> {
    await this.writing
    this.writing = undefined
    if (this.failure !== undefined) throw this.failure
  }

  private async write (): Promise<void> {
    await this.settled()
    const batch = this.pending
    this.pending = []
    if (batch.length > 0) this.writing = this.ledger.stageSyncedBlocks(batch).catch((err: unknown) => { this.failure = err })
  }
}
