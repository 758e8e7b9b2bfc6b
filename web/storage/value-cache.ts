import { corruptError, request } from './idb.ts'
import { intact } from './records.ts'

/**
 * Values records by sequence number, read from IndexedDB on demand; the last ones read or
 * written are kept up to `maxBytes`, and reads of one record at once share its fetch.
 */
export class ValueCache {
  private readonly cache = new Map<number, Uint8Array>()
  private cachedBytes = 0
  private readonly loading = new Map<number, Promise<Uint8Array>>()

  constructor (private readonly db: IDBDatabase, private readonly location: string, private readonly maxBytes: number) {}

  get bytes (): number { return this.cachedBytes }

  get (seq: number): Promise<Uint8Array> {
    const cached = this.cache.get(seq)
    if (cached !== undefined) {
      this.cache.delete(seq)
      this.cache.set(seq, cached)
      return Promise.resolve(cached)
    }
    let p = this.loading.get(seq)
    if (p === undefined) {
      p = request<Uint8Array | undefined>(this.db.transaction('values').objectStore('values').get(seq), this.location).then(rec => {
        if (rec === undefined || !intact(rec)) throw corruptError(this.location, `values record ${seq} is ${rec === undefined ? 'missing' : 'damaged'}`)
        this.remember(seq, rec)
        return rec
      }).finally(() => this.loading.delete(seq))
      this.loading.set(seq, p)
    }
    return p
  }

  remember (seq: number, rec: Uint8Array): void {
    if (rec.byteLength > this.maxBytes / 2) return
    this.cache.set(seq, rec)
    this.cachedBytes += rec.byteLength
    for (const [s, r] of this.cache) {
      if (this.cachedBytes <= this.maxBytes) break
      this.cache.delete(s)
      this.cachedBytes -= r.byteLength
    }
  }

  /** Forgets a values record that was deleted. */
  drop (seq: number): void {
    const c = this.cache.get(seq)
    if (c === undefined) return
    this.cache.delete(seq)
    this.cachedBytes -= c.byteLength
  }
}
