import { OpList, type Bytes, type KVStore, type RangeOptions, type StoreBatch } from './kv.ts'

/**
 * Fabric's column families, as one-byte key prefixes in a single store, so that a
 * block, its state changes, delta and indexes land in one atomic write.
 */
export const ColumnPrefix = {
  blockchain: 0x01,
  state: 0x02,
  stateDelta: 0x03,
  indexes: 0x04,
  persist: 0x05,
  // Membership services (src/ca), in a store of their own: Fabric's tables in its eca/tca/tlsca databases.
  caUsers: 0x10,
  caCertificates: 0x11,
  caCertificateHashes: 0x12,
  caAffiliations: 0x13,
  caTCertSets: 0x14,
  caSecrets: 0x15,
  caAttributes: 0x16
} as const

export type ColumnName = keyof typeof ColumnPrefix

export class Column {
  readonly prefix: number

  constructor (readonly store: KVStore, readonly name: ColumnName) {
    this.prefix = ColumnPrefix[name]
  }

  key (key: Bytes): Bytes {
    const out = new Uint8Array(key.length + 1)
    out[0] = this.prefix
    out.set(key, 1)
    return out
  }

  async get (key: Bytes): Promise<Bytes | undefined> {
    return this.store.get(this.key(key))
  }

  getMany (keys: Bytes[]): Promise<(Bytes | undefined)[]> {
    return this.store.getMany(keys.map(k => this.key(k)))
  }

  /** Iterates keys of this column only; keys and bounds are given without the prefix. */
  async * entries (range: RangeOptions = {}): AsyncIterable<[Bytes, Bytes]> {
    for await (const [k, v] of this.store.entries(this.storeRange(range))) yield [k.subarray(1), v]
  }

  /** KVStore.readRanges within this column; keys and bounds without the prefix. */
  async readRanges (ranges: RangeOptions[]): Promise<[Bytes, Bytes][][]> {
    const found = await this.store.readRanges(ranges.map(r => this.storeRange(r)))
    return found.map(entries => entries.map(([k, v]) => [k.subarray(1), v]))
  }

  private storeRange (range: RangeOptions): RangeOptions {
    const r: RangeOptions = { reverse: range.reverse, limit: range.limit }
    if (range.gt !== undefined) r.gt = this.key(range.gt)
    else r.gte = this.key(range.gte ?? new Uint8Array(0))
    if (range.lt !== undefined) r.lt = this.key(range.lt)
    else if (range.lte !== undefined) r.lte = this.key(range.lte)
    else r.lt = Uint8Array.of(this.prefix + 1)
    return r
  }
}

/**
 * Puts and deletes across columns for one atomic `KVStore.write(batch.ops)`, into a batch of
 * the store's own (`store.batch()`: LevelDB takes each op in as it comes) or else collected.
 */
export class WriteBatch {
  constructor (readonly ops: StoreBatch = new OpList()) {}

  put (column: Column, key: Bytes, value: Bytes): this {
    this.ops.put(column.key(key), value)
    return this
  }

  del (column: Column, key: Bytes): this {
    this.ops.del(column.key(key))
    return this
  }

  /** A put whose key already starts with its column's prefix (Column.prefix): no copy to make. */
  putStoreKey (key: Bytes, value: Bytes): this {
    this.ops.put(key, value)
    return this
  }

  delStoreKey (key: Bytes): this {
    this.ops.del(key)
    return this
  }

  get length (): number { return this.ops.length }
}

/** The five columns of one store. */
export interface Columns {
  store: KVStore
  blockchain: Column
  state: Column
  stateDelta: Column
  indexes: Column
  persist: Column
}

export function openColumns (store: KVStore): Columns {
  return {
    store,
    blockchain: new Column(store, 'blockchain'),
    state: new Column(store, 'state'),
    stateDelta: new Column(store, 'stateDelta'),
    indexes: new Column(store, 'indexes'),
    persist: new Column(store, 'persist')
  }
}
