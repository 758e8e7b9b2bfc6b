import { fromBinary, toBinary } from '@bufbuild/protobuf'
import { BinaryReader } from '@bufbuild/protobuf/wire'
import { concatBytes, utf8, utf8Length, writeUtf8 } from '../crypto/bytes.ts'
import { BlockSchema, type Block, type Transaction } from '../protos/fabric_pb.ts'
import { StorageError, type WriteBatch, type Columns } from '../storage/index.ts'
import { blockHash, encodeBlock } from './block.ts'
import { varintSize, writeVarint } from '../util/varint.ts'
import { ByteArena } from './byte-arena.ts'
import { encodeUint64, decodeUint64 } from './keys.ts'

const blockCountKey = utf8('blockCount')
const prefixBlockHash = 1
const prefixTxID = 2

function txIndexKey (txid: string): Uint8Array {
  return concatBytes(Uint8Array.of(prefixTxID), utf8(txid))
}

/** Unsigned varints, one after another, as protobuf's BinaryWriter writes them (uint64 fields without tags). */
function uvarints (values: number[], arena?: ByteArena): Uint8Array {
  let size = 0
  for (const v of values) size += varintSize(v)
  const out = arena?.take(size) ?? new Uint8Array(size)
  let o = 0
  for (const v of values) o = writeVarint(out, o, v)
  return out
}

/** Blocks by number, the height, and the block-hash and txid indexes (Fabric's blockchain + sync indexer). */
export class Blockchain {
  private constructor (
    private readonly cols: Columns,
    private size: number,
    private lastHash: Uint8Array | undefined
  ) {}

  static async open (cols: Columns): Promise<Blockchain> {
    const countBytes = await cols.blockchain.get(blockCountKey)
    const size = countBytes === undefined ? 0 : Number(decodeUint64(countBytes))
    const chain = new Blockchain(cols, size, undefined)
    if (size > 0) {
      const last = await chain.getBlock(size - 1)
      if (last === undefined) throw new StorageError('CORRUPT', `ledger in ${cols.store.location} is corrupt: height ${size} but block ${size - 1} is missing`)
      chain.lastHash = blockHash(last)
    }
    return chain
  }

  get height (): number { return this.size }
  get currentBlockHash (): Uint8Array | undefined { return this.lastHash }

  async getBlock (n: number): Promise<Block | undefined> {
    const bytes = await this.cols.blockchain.get(encodeUint64(n))
    if (bytes === undefined) return undefined
    try {
      return fromBinary(BlockSchema, bytes)
    } catch (err) {
      throw new StorageError('CORRUPT', `block ${n} in ${this.cols.store.location} does not decode: ${(err as Error).message}`, { cause: err })
    }
  }

  async blockNumberByHash (hash: Uint8Array): Promise<number | undefined> {
    const v = await this.cols.indexes.get(concatBytes(Uint8Array.of(prefixBlockHash), hash))
    return v === undefined ? undefined : Number(new BinaryReader(v).uint64())
  }

  async txLocation (txid: string): Promise<{ block: number, index: number } | undefined> {
    const v = await this.cols.indexes.get(txIndexKey(txid))
    if (v === undefined) return undefined
    const r = new BinaryReader(v)
    const at = { block: Number(r.uint64()), index: Number(r.uint64()) }
    // A block staged past the tip by state transfer is not part of the chain yet.
    return at.block < this.size ? at : undefined
  }

  /** Whether the chain holds each of `txids`, from the txid index in one read (no block decoded). */
  async hasTransactions (txids: string[]): Promise<boolean[]> {
    const found = await this.cols.indexes.getMany(txids.map(txIndexKey))
    return found.map(v => v !== undefined && Number(new BinaryReader(v).uint64()) < this.size)
  }

  async getTransaction (txid: string): Promise<Transaction | undefined> {
    const at = await this.txLocation(txid)
    if (at === undefined) return undefined
    return (await this.getBlock(at.block))?.transactions[at.index]
  }

  /** Chains `block` onto the tip (previous hash set here) and adds its writes to `batch`. */
  appendToBatch (block: Block, batch: WriteBatch): { number: number, hash: Uint8Array } {
    block.previousBlockHash = this.lastHash ?? new Uint8Array(0)
    return this.putToBatch(block, this.size, batch)
  }

  /** Stores a block as given at `n` (state transfer); raises the height when it is past the tip. */
  putToBatch (block: Block, n: number, batch: WriteBatch): { number: number, hash: Uint8Array } {
    const { bytes, hash } = encodeBlock(block)
    this.stageToBatch(block, n, hash, batch, bytes)
    if (n + 1 > this.size) batch.put(this.cols.blockchain, blockCountKey, encodeUint64(n + 1))
    return { number: n, hash }
  }

  /** A block's bytes and indexes without the height: past the tip, it is not part of the chain yet. */
  stageToBatch (block: Block, n: number, hash: Uint8Array, batch: WriteBatch, bytes: Uint8Array = toBinary(BlockSchema, block)): void {
    batch.put(this.cols.blockchain, encodeUint64(n), bytes)
    batch.put(this.cols.indexes, concatBytes(Uint8Array.of(prefixBlockHash), hash), uvarints([n]))
    const prefix = this.cols.indexes.prefix
    // A block's index entries in one buffer: LevelDB would move each small array off the JS heap to read it.
    const arena = new ByteArena(block.transactions.length * 48)
    block.transactions.forEach((tx, i) => {
      // The store's key in one go: column, index kind, txid.
      const key = arena.take(2 + utf8Length(tx.txid))
      key[0] = prefix
      key[1] = prefixTxID
      writeUtf8(key, 2, tx.txid)
      batch.putStoreKey(key, uvarints([n, i], arena))
    })
  }

  /**
   * Adds to `batch` the deletion of every block stored past the height (staged by a state
   * transfer that did not commit them) and of the index entries that still point at it.
   */
  async discardPastTipToBatch (batch: WriteBatch): Promise<void> {
    for await (const [key, bytes] of this.cols.blockchain.entries({ gte: encodeUint64(this.size), lte: encodeUint64(Number.MAX_SAFE_INTEGER) })) {
      const n = decodeUint64(key)
      const block = fromBinary(BlockSchema, bytes)
      batch.del(this.cols.blockchain, key)
      const indexKeys = [concatBytes(Uint8Array.of(prefixBlockHash), blockHash(block)), ...block.transactions.map(tx => txIndexKey(tx.txid))]
      const at = await this.cols.indexes.getMany(indexKeys)
      indexKeys.forEach((k, i) => {
        const v = at[i]
        if (v !== undefined && new BinaryReader(v).uint64() === n) batch.del(this.cols.indexes, k)
      })
    }
  }

  /** Call once the batch holding block `n` is written. */
  persisted (n: number, hash: Uint8Array): void {
    if (n + 1 > this.size) {
      this.size = n + 1
      this.lastHash = hash
    }
  }
}
