/**
 * Hands out views into large buffers: the bytes a block writes (thousands of tree nodes of a
 * few hundred bytes) without a buffer of their own each, which costs more to allocate and to
 * collect than to fill (and a native store would move each small one out of the JS heap to
 * read it). Only for bytes that go to storage, which copies what it keeps, and then die.
 */
export class ByteArena {
  private chunk = new Uint8Array(0)
  private used = 0

  constructor (private readonly chunkSize = 256 * 1024) {}

  take (n: number): Uint8Array {
    if (this.used + n > this.chunk.length) {
      this.chunk = new Uint8Array(Math.max(this.chunkSize, n))
      this.used = 0
    }
    return this.chunk.subarray(this.used, this.used += n)
  }

  copy (bytes: Uint8Array): Uint8Array {
    const out = this.take(bytes.length)
    out.set(bytes)
    return out
  }
}
