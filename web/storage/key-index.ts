import type { Bytes, RangeOptions } from '../../src/storage/kv.ts'
import { binaryKey, SortedKeys } from '../../src/storage/sorted-keys.ts'
import type { ValueRef } from './records.ts'

/** A key's entry: its value, or where the value lies. */
export interface Entry { key: Bytes, value?: Bytes, ref?: ValueRef }

/**
 * Every key of the store in memory, in a Map and in sorted order, and how many live values lie
 * in each values record: one that no value lies in any more can be deleted.
 */
export class KeyIndex {
  private readonly entries = new Map<string, Entry>()
  private readonly sorted = new SortedKeys()
  private readonly refs = new Map<number, number>()

  get size (): number { return this.entries.size }

  /** Bytes of the values held in memory. */
  valueBytes (): number {
    let n = 0
    for (const e of this.entries.values()) n += e.value?.byteLength ?? 0
    return n
  }

  get (key: Bytes): Entry | undefined { return this.entries.get(binaryKey(key)) }

  /** Sets (or, with undefined, deletes) the entry of `key`. */
  set (key: Bytes, e: Entry | undefined): void {
    const k = binaryKey(key)
    const old = this.entries.get(k)
    if (old?.ref !== undefined) this.unref(old.ref.seq)
    if (e?.ref !== undefined) this.refs.set(e.ref.seq, (this.refs.get(e.ref.seq) ?? 0) + 1)
    if (e === undefined) {
      if (old === undefined) return
      this.entries.delete(k)
      this.sorted.remove(k)
    } else {
      this.entries.set(k, e)
      if (old === undefined) this.sorted.insert(k)
    }
  }

  private unref (seq: number): void {
    const n = this.refs.get(seq)! - 1
    if (n === 0) this.refs.delete(seq)
    else this.refs.set(seq, n)
  }

  /** Whether a live value lies in values record `seq`. */
  referenced (seq: number): boolean { return this.refs.has(seq) }

  range (r: RangeOptions): Entry[] {
    const lo = r.gt ?? r.gte
    const hi = r.lt ?? r.lte
    const limit = r.limit === undefined || r.limit < 0 ? Infinity : r.limit
    const keys = this.sorted.range(lo === undefined ? undefined : binaryKey(lo), r.gt !== undefined, hi === undefined ? undefined : binaryKey(hi), r.lt !== undefined, r.reverse === true, limit)
    return keys.map(k => this.entries.get(k)!)
  }

  /** Every entry in key order. */
  * all (): Iterable<Entry> {
    for (const k of this.sorted.range(undefined, false, undefined, false)) yield this.entries.get(k)!
  }
}
