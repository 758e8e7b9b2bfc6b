// Protobuf's unsigned varints (up to 2^53), written straight into a buffer sized beforehand: the
// bucket tree and PBFT's request digests encode thousands of small values a block, and a growing
// writer costs more than the bytes.

export function varintSize (n: number): number {
  let size = 1
  while (n >= 0x80) { n = Math.floor(n / 128); size++ }
  return size
}

/** Writes `n` at `offset`; returns the offset after it. */
export function writeVarint (out: Uint8Array, offset: number, n: number): number {
  while (n >= 0x80) {
    out[offset++] = (n & 0x7f) | 0x80
    n = Math.floor(n / 128)
  }
  out[offset++] = n
  return offset
}
