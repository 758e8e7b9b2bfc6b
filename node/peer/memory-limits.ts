// The peer's memory: its V8 heap and C allocator, set for a resident set of at most 150 MB under load (16 REST clients).
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
 * Environment every `weft` process starts with, passed where WEFT_NODE_FLAGS are (a variable set
 * by the user wins, except on bin/weft.mjs's first line). glibc gives each thread that allocates
 * an arena of its own, up to eight per core: LevelDB's reads and writes run on libuv's four pool
 * threads and its compaction on one more, and freed memory stays scattered over those arenas.
 * Under load the peer's anonymous memory (outside the V8 heap) grew by 1–2 MiB a minute that way;
 * with two arenas it stayed flat, some 10 MiB lower. C libraries other than glibc ignore it.
 */
export const WEFT_NODE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' }

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
