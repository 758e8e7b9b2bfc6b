/**
 * Go's time.ParseDuration, returning milliseconds (fractions kept, so `1500us` is 1.5).
 * Fabric's config durations are Go duration strings: `1s`, `200ms`, `2m`, `1h30m`.
 */
const unitMs: Record<string, number> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000
}

export function parseGoDuration (text: string): number {
  const fail = (): never => { throw new Error(`invalid duration "${text}" (expected a Go duration such as 1s, 200ms, 2m)`) }
  let s = text
  let sign = 1
  if (s.startsWith('-') || s.startsWith('+')) { sign = s[0] === '-' ? -1 : 1; s = s.slice(1) }
  if (s === '0') return 0
  if (s === '') fail()
  let total = 0
  const part = /^(\d+(?:\.\d*)?|\.\d+)([a-zµμ]+)/
  while (s !== '') {
    const m = part.exec(s)
    if (m === null) fail()
    const unit = unitMs[m![2]]
    if (unit === undefined) throw new Error(`invalid duration "${text}": unknown unit "${m![2]}"`)
    total += Number(m![1]) * unit
    s = s.slice(m![0].length)
  }
  return sign * total
}
