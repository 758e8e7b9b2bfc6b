// What the fuzz tests share: the case count (short in CI, WEFT_FAULTS_LONG=1 for ≥ 10,000 per
// surface), the seed (WEFT_FAULTS_SEED to replay a run), and byte mutations of valid encodings.
import { Prng } from '../sim/prng.ts'

export const LONG = process.env.WEFT_FAULTS_LONG === '1'
/** Cases per surface. */
export const CASES = Number(process.env.WEFT_FAULTS_CASES ?? (LONG ? 10_000 : 300))
export const SEED = Number(process.env.WEFT_FAULTS_SEED ?? 0x5eed)

export function rng (salt: number): Prng { return new Prng((SEED ^ Math.imul(salt, 0x9e3779b1)) >>> 0) }

export function randomBytes (r: Prng, max: number): Uint8Array {
  const out = new Uint8Array(r.int(max + 1))
  for (let i = 0; i < out.length; i++) out[i] = r.int(256)
  return out
}

/** One of: flip bits, cut, splice random bytes in, overwrite a run, repeat a slice, or all new bytes. */
export function mutate (r: Prng, seed: Uint8Array): Uint8Array {
  const b = Uint8Array.from(seed)
  switch (r.int(6)) {
    case 0: for (let i = 0, n = 1 + r.int(4); i < n && b.length > 0; i++) b[r.int(b.length)] ^= 1 << r.int(8); return b
    case 1: return b.subarray(0, r.int(b.length + 1))
    case 2: { const at = r.int(b.length + 1); return Uint8Array.from([...b.subarray(0, at), ...randomBytes(r, 16), ...b.subarray(at)]) }
    case 3: { for (let i = r.int(b.length + 1), n = r.int(8); n > 0 && i < b.length; i++, n--) b[i] = r.int(256); return b }
    case 4: { const at = r.int(b.length + 1); const piece = b.subarray(at, at + 1 + r.int(8)); return Uint8Array.from([...b, ...piece, ...piece]) }
    default: return randomBytes(r, 64)
  }
}

export function pick<T> (r: Prng, items: readonly T[]): T { return items[r.int(items.length)] }

/** Text that looks like a stack trace: nothing a client gets may contain one. */
export const STACK = /\n\s+at [^\n]+:\d+:\d+/
