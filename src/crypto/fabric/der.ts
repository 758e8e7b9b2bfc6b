/** One DER tag-length-value read at `offset` of `buf`. */
export interface Tlv {
  readonly tag: number
  readonly value: Uint8Array
  /** The whole encoding, header included. */
  readonly raw: Uint8Array
  /** Offset just past this element. */
  readonly end: number
}

/** Reads one DER element (single-byte tags, definite lengths: all that certificates and keys use). */
export function readTlv (buf: Uint8Array, offset: number): Tlv {
  if (offset + 2 > buf.length) throw new Error('DER: truncated')
  const tag = buf[offset]
  if ((tag & 0x1f) === 0x1f) throw new Error('DER: multi-byte tags are not supported')
  let len = buf[offset + 1]
  let p = offset + 2
  if (len & 0x80) {
    const n = len & 0x7f
    if (n === 0 || n > 4 || p + n > buf.length) throw new Error('DER: bad length')
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]
    p += n
  }
  if (p + len > buf.length) throw new Error('DER: truncated')
  return { tag, value: buf.subarray(p, p + len), raw: buf.subarray(offset, p + len), end: p + len }
}
