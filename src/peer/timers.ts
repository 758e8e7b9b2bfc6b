/**
 * Time and chance as inputs, so a simulation can replay any schedule: the peer never calls
 * setTimeout or Math.random itself.
 */
export interface Timers {
  setTimeout (fn: () => void, ms: number): unknown
  clearTimeout (handle: unknown): void
}

export const systemTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>)
}

/** A number in [0, 1), like Math.random. */
export type Random = () => number

/** An integer in [0, n). */
export function randomInt (random: Random, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n))
}

/** Calls `fn` every `ms` until the returned function is called; a period ≤ 0 never ticks. */
export function every (timers: Timers, ms: number, fn: () => void): () => void {
  let handle: unknown
  let stopped = ms <= 0
  const arm = (): void => {
    if (stopped) return
    handle = timers.setTimeout(() => { if (!stopped) { fn(); arm() } }, ms)
  }
  arm()
  return () => {
    stopped = true
    timers.clearTimeout(handle)
  }
}

export function sleep (timers: Timers, ms: number): Promise<void> {
  return new Promise(resolve => { timers.setTimeout(resolve, ms) })
}

export class TimeoutError extends Error {
  override name = 'TimeoutError'
}
