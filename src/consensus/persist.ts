import { fromUtf8, utf8 } from '../crypto/bytes.ts'
import { Column, type BatchOp, type KVStore } from '../storage/index.ts'
import { createLogger } from '../util/logger.ts'
import type { StatePersistor } from './interfaces.ts'

const log = createLogger('consensus/persist')
const prefix = 'consensus.'

/**
 * Fabric's consensus/helper/persist: keys `consensus.<key>` in the persist column. Plugins run
 * synchronously, so stores and deletes are queued and written in issue order (whatever piled up
 * while a write was in flight goes out as one atomic batch); reads wait for the queue first.
 * A failed write is logged and remembered: `flush` rejects with it.
 */
export class ConsensusPersistor implements StatePersistor {
  private readonly column: Column
  private pending: BatchOp[] = []
  private writing?: Promise<void>
  private failure?: Error

  constructor (store: KVStore) {
    this.column = new Column(store, 'persist')
  }

  storeState (key: string, value: Uint8Array): void {
    this.enqueue({ type: 'put', key: this.column.key(utf8(prefix + key)), value })
  }

  delState (key: string): void {
    this.enqueue({ type: 'del', key: this.column.key(utf8(prefix + key)) })
  }

  async readState (key: string): Promise<Uint8Array | undefined> {
    await this.writing
    return this.column.get(utf8(prefix + key))
  }

  async readStateSet (keyPrefix: string): Promise<Map<string, Uint8Array>> {
    await this.writing
    const from = utf8(prefix + keyPrefix)
    const out = new Map<string, Uint8Array>()
    for await (const [k, v] of this.column.entries({ gte: from })) {
      if (!startsWith(k, from)) break
      out.set(fromUtf8(k).slice(prefix.length), v)
    }
    return out
  }

  async flush (): Promise<void> {
    await this.writing
    if (this.failure !== undefined) throw this.failure
  }

  private enqueue (op: BatchOp): void {
    this.pending.push(op)
    this.writing ??= this.writeLoop()
  }

  private async writeLoop (): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const ops = this.pending
        this.pending = []
        try {
          await this.column.store.write(ops)
        } catch (err) {
          const keys = ops.map(op => fromUtf8(op.key.subarray(1))).join(', ')
          this.failure = new Error(`persisting consensus state (${keys}) failed: ${(err as Error).message}`, { cause: err })
          log.error(this.failure.message)
        }
      }
    } finally {
      this.writing = undefined
    }
  }
}

function startsWith (b: Uint8Array, p: Uint8Array): boolean {
  if (b.length < p.length) return false
  for (let i = 0; i < p.length; i++) if (b[i] !== p[i]) return false
  return true
}
