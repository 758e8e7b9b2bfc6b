const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: false })

export function utf8 (s: string): Uint8Array {
  // For the short ASCII strings most callers pass (names, args, keys) a copy costs less than TextEncoder's call.
  if (s.length > 64 || !isAscii(s)) return utf8Encoder.encode(s)
  const out = new Uint8Array(s.length)
  writeUtf8(out, 0, s)
  return out
}

/** Whether a string's UTF-8 bytes are its char codes. */
export function isAscii (s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false
  return true
}

/** How many bytes utf8(s) gives. */
export function utf8Length (s: string): number {
  return isAscii(s) ? s.length : utf8Encoder.encode(s).length
}

/**
 * Writes utf8(s) at out[o…], which has room for utf8Length(s) bytes; returns the offset after
 * them. ASCII (nearly every name and key) is copied char by char, cheaper than the encoder's call.
 */
export function writeUtf8 (out: Uint8Array, o: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x80) return o + utf8Encoder.encodeInto(s.slice(i), out.subarray(o)).written
    out[o++] = c
  }
  return o
}
export function fromUtf8 (b: Uint8Array): string { return utf8Decoder.decode(b) }

export function toHex (b: Uint8Array): string {
  let s = ''
  for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, '0')
  return s
}

export function fromHex (hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new Error(`invalid hex string (${hex.length} chars)`)
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}

export function toBase64 (b: Uint8Array): string {
  let bin = ''
  for (let i = 0; i < b.length; i++) bin += String.fromCharCode(b[i])
  return btoa(bin)
}

export function fromBase64 (s: string): Uint8Array {
  const bin = atob(s)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

export function concatBytes (...parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.length }
  return out
}

export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Byte-wise comparison, the order LevelDB and Go's bytes.Compare use. */
export function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}
