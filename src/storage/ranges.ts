import { compareBytes } from '../crypto/bytes.ts'
import type { Bytes, RangeOptions } from './kv.ts'

/** Past the range's upper bound (reading forward, nothing after this key is in it). */
export function pastEnd (key: Bytes, r: RangeOptions): boolean {
  if (r.lt !== undefined) return compareBytes(key, r.lt) >= 0
  if (r.lte !== undefined) return compareBytes(key, r.lte) > 0
  return false
}

/** Before the range's lower bound. */
export function beforeStart (key: Bytes, r: RangeOptions): boolean {
  if (r.gt !== undefined) return compareBytes(key, r.gt) <= 0
  if (r.gte !== undefined) return compareBytes(key, r.gte) < 0
  return false
}

export function inRange (key: Bytes, r: RangeOptions): boolean {
  return !beforeStart(key, r) && !pastEnd(key, r)
}
