// The peer's V8 heap, sized for a resident set of at most 150 MB under load (16 REST clients).
import { setFlagsFromString } from 'node:v8'

/**
 * Node flags every `weft` process starts with: bin/weft.mjs's first line, `npm start`, the
 * children of `weft network up` and the test harness pass them (a test keeps the first two in
 * step). V8 sizes the young generation when the process starts, so it cannot be set later. Its
 * default semi-spaces of 16 MiB each are both resident as soon as the peer has started (loading
 * its modules grows them), 32 MiB; at 8 MiB they hold 16. The price: twice as many scavenges,
 * about 70 µs more GC per committed transaction under load (of some 800 µs of peer CPU).
 */
export const WEFT_NODE_FLAGS = ['--max-semi-space-size=8']

/**
 * How far past what survived the last full collection V8 lets the old generation grow before the
 * next one, in percent. Left to itself V8 allows up to four times the live heap: under load the
 * peer promotes a steady stream of objects that die a block later, and its heap rose from about
 * 30 to 120 MiB between collections, all of it garbage. A full collection of a live heap of about
 * 30 MiB takes some 10 ms, mostly incremental, so collecting more often costs little.
 */
export const HEAP_GROWING_PERCENT = 25

/** Bounds the old generation's growth, unless node was started with its own --heap-growing-percent. */
export function boundHeapGrowth (): void {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some(a => /^--heap[-_]growing[-_]percent/.test(a))
  // V8 reads this flag each time it sets the next collection's limit, so setting it now takes effect.
  if (!given) setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
}
