// Go semantics the Fabric example chaincodes rely on, so the TS ports answer byte for byte alike.

const INT64_MAX = (1n << 63n) - 1n
const INT64_MIN = -(1n << 63n)

/** strconv.Atoi on a 64-bit Go: the value (0 on bad syntax, clamped when out of range) and the error. */
export function atoi (s: string): { value: bigint, err?: Error } {
  if (!/^[+-]?[0-9]+$/.test(s)) return { value: 0n, err: new Error(`strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`) }
  const v = BigInt(s)
  if (v > INT64_MAX) return { value: INT64_MAX, err: new Error(`strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`) }
  if (v < INT64_MIN) return { value: INT64_MIN, err: new Error(`strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`) }
  return { value: v }
}

/** Go int arithmetic wraps around at 64 bits. */
export function int64 (v: bigint): bigint { return BigInt.asIntN(64, v) }

/** encoding/json's string encoding (HTML-safe escapes, as json.Marshal writes them). */
export function goJSONString (s: string): string {
  let out = '"'
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    if (ch === '"') out += '\\"'
    else if (ch === '\\') out += '\\\\'
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (ch === '\t') out += '\\t'
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) out += '\\u' + c.toString(16).padStart(4, '0')
    else out += ch
  }
  return out + '"'
}
