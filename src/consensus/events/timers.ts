/**
 * Time as an input: consensus never reads the clock or arms a timer except through a
 * TimerService, so a simulation can replace it with virtual time and replay any schedule.
 */
export interface TimerHandle {
  cancel (): void
}

export interface TimerService {
  /** Milliseconds since the epoch (virtual in simulations). */
  now (): number
  /** Runs `fn` once after `delayMs` (0 = after what is already due), unless cancelled. */
  schedule (delayMs: number, fn: () => void): TimerHandle
}

/** setTimeout fires at once for delays past 2^31-1 ms; a doubled view-change timeout can get there. */
const maxDelayMs = 2 ** 31 - 1

/** The host's timers: setTimeout exists in Node and in browsers alike. */
export const realTimers: TimerService = {
  now: () => Date.now(),
  schedule (delayMs, fn) {
    const t = setTimeout(fn, Math.min(maxDelayMs, Math.max(0, delayMs)))
    return { cancel: () => clearTimeout(t) }
  }
}

/** A uniform random number in [0, 1); seeded in simulations. */
export type Random = () => number
