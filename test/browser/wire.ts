// Value encoding shared by the Node side (harness.ts) and the tab (page-api.ts).
// page.evaluate only carries JSON-like values, so Uint8Array, bigint and
// undefined are tagged on the way across and restored on the other side.

export type Wire = null | boolean | number | string | Wire[] | { [k: string]: Wire }

export function toWire (v: unknown): Wire {
  if (v === undefined) return { $undef: true }
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v
  if (typeof v === 'bigint') return { $bigint: v.toString() }
  if (v instanceof Uint8Array) {
    let hex = ''
    for (let i = 0; i < v.length; i++) hex += v[i].toString(16).padStart(2, '0')
    return { $bytes: hex }
  }
  if (v instanceof ArrayBuffer) return toWire(new Uint8Array(v))
  if (Array.isArray(v)) return v.map(toWire)
  if (v instanceof Map) return { $map: [...v.entries()].map(([k, x]) => [toWire(k), toWire(x)]) }
  if (typeof v === 'object') {
    const out: { [k: string]: Wire } = {}
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = toWire(x)
    return out
  }
  throw new TypeError(`cannot send a ${typeof v} between Node and the page`)
}

export function fromWire (w: Wire): unknown {
  if (w === null || typeof w !== 'object') return w
  if (Array.isArray(w)) return w.map(fromWire)
  if (w.$undef === true) return undefined
  if (typeof w.$bigint === 'string') return BigInt(w.$bigint)
  if (typeof w.$bytes === 'string') {
    const hex = w.$bytes
    const out = new Uint8Array(hex.length / 2)
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
    return out
  }
  if (Array.isArray(w.$map)) return new Map((w.$map as Wire[][]).map(([k, x]) => [fromWire(k), fromWire(x)]))
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(w)) out[k] = fromWire(x)
  return out
}
