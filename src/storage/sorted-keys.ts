/**
 * A sorted set of strings in chunks of at most `chunkMax`, so that an insert or a delete moves a
 * chunk's worth of entries, not the whole set. A binary key held as one char per byte (see
 * `binaryKey`) sorts as its bytes: strings compare by code unit.
 */
export class SortedKeys {
  private chunks: string[][] = []
  size = 0

  constructor (private readonly chunkMax = 512) {}

  /** Adds `key`, which must not be in the set. */
  insert (key: string): void {
    this.size++
    const last = this.chunks[this.chunks.length - 1]
    // Keys in order (a snapshot read on open, a chain growing at its end) go on the end.
    if (last === undefined || last[last.length - 1] < key) {
      if (last === undefined || last.length >= this.chunkMax) this.chunks.push([key])
      else last.push(key)
      return
    }
    const c = this.chunkOf(key)
    const chunk = this.chunks[c]
    chunk.splice(lowerBound(chunk, key, false), 0, key)
    if (chunk.length > this.chunkMax) this.chunks.splice(c + 1, 0, chunk.splice(chunk.length >> 1))
  }

  /** Removes `key`, which must be in the set. */
  remove (key: string): void {
    const c = this.chunkOf(key)
    const chunk = this.chunks[c]
    const i = lowerBound(chunk, key, false)
    if (chunk[i] !== key) return
    this.size--
    chunk.splice(i, 1)
    if (chunk.length === 0) this.chunks.splice(c, 1)
  }

  /**
   * The keys from `lo` to `hi` (either may be left open; `loOpen`/`hiOpen` exclude the bound
   * itself), in order or in reverse, at most `limit` of them.
   */
  range (lo: string | undefined, loOpen: boolean, hi: string | undefined, hiOpen: boolean, reverse = false, limit = Infinity): string[] {
    const out: string[] = []
    if (limit <= 0 || this.size === 0) return out
    const inHi = (k: string): boolean => hi === undefined || (hiOpen ? k < hi : k <= hi)
    const inLo = (k: string): boolean => lo === undefined || (loOpen ? k > lo : k >= lo)
    if (!reverse) {
      let c = lo === undefined ? 0 : this.chunkOf(lo)
      let i = lo === undefined ? 0 : lowerBound(this.chunks[c], lo, loOpen)
      for (; c < this.chunks.length; c++, i = 0) {
        const chunk = this.chunks[c]
        for (; i < chunk.length; i++) {
          if (!inHi(chunk[i])) return out
          out.push(chunk[i])
          if (out.length >= limit) return out
        }
      }
      return out
    }
    let c = hi === undefined ? this.chunks.length - 1 : this.chunkOf(hi)
    // The last key at or below hi (below, when open): one before the first key past it.
    let i = hi === undefined ? this.chunks[c].length - 1 : lowerBound(this.chunks[c], hi, !hiOpen) - 1
    for (; c >= 0; c--, i = c >= 0 ? this.chunks[c].length - 1 : 0) {
      const chunk = this.chunks[c]
      for (; i >= 0; i--) {
        if (!inLo(chunk[i])) return out
        out.push(chunk[i])
        if (out.length >= limit) return out
      }
    }
    return out
  }

  /** The chunk `key` belongs in: the last whose first key is at or below it (the first chunk if none is). */
  private chunkOf (key: string): number {
    let lo = 0
    let hi = this.chunks.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.chunks[mid][0] <= key) lo = mid
      else hi = mid - 1
    }
    return lo
  }
}

/** The first index whose key is above `key` (`after`) or at or above it. */
function lowerBound (chunk: string[], key: string, after: boolean): number {
  let lo = 0
  let hi = chunk.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (after ? chunk[mid] <= key : chunk[mid] < key) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** `key` as a string of one char per byte: a Map key that sorts as the bytes do. */
export function binaryKey (key: Uint8Array): string {
  let s = ''
  // In slices: a call takes only so many arguments.
  for (let i = 0; i < key.length; i += 4096) s += String.fromCharCode.apply(null, key.subarray(i, i + 4096) as unknown as number[])
  return s
}
