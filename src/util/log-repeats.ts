import { LruMap } from './lru.ts'

/**
 * Holds back repeats of a log line. Lines of one shape (the same text once numbers, hex and
 * ids are masked) from one logger print at most once per interval; the next one to print says
 * how many were held back since the last, so a flood (a replica refusing the same stale request
 * hundreds of times) is one line every interval with a count, and nothing is silently lost.
 */
export interface RepeatLimiter {
  /** The text to print (with the count of those held back), or undefined to hold this one back. */
  admit (name: string, msg: string): string | undefined
}

/** Shapes remembered at once; beyond that the oldest is forgotten (and would print again). */
const maxShapes = 1000

/** What differs between repeats of one message: ids, hashes, addresses, counts. */
export function messageShape (msg: string): string {
  return msg
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>')
    .replace(/\b(?=[0-9a-f]*[0-9])[0-9a-f]{8,}\b/gi, '<hex>')
    .replace(/\d+/g, '#')
}

export function repeatLimiter (now: () => number, intervalMs = 10_000): RepeatLimiter {
  const shapes = new LruMap<string, { printedAt: number, held: number }>(maxShapes)
  return {
    admit (name, msg) {
      const key = `${name}\u0000${messageShape(msg)}`
      const t = now()
      const seen = shapes.get(key)
      if (seen !== undefined && t - seen.printedAt < intervalMs) {
        seen.held++
        return undefined
      }
      shapes.set(key, { printedAt: t, held: 0 })
      if (seen === undefined || seen.held === 0) return msg
      return `${msg} (and ${seen.held} more like this in the last ${Math.round((t - seen.printedAt) / 1000)} s)`
    }
  }
}
