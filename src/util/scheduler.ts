/**
 * Time and chance as inputs. Every part of the peer (handler FSM, discovery, consensus, chaincode
 * support, event hub) reads the clock and arms timers only through a Scheduler, and draws random
 * numbers only from a Random, so a simulation can hand in virtual time and a seed and replay any
 * schedule. This file holds the host's implementations: the only place in src/ that touches
 * setTimeout, Date.now or Math.random (test/unit/platform-boundaries.test.ts keeps it so).
 */

export interface TimerHandle {
  cancel (): void
}

export interface Scheduler {
  /** Milliseconds since the epoch (virtual in simulations). */
  now (): number
  /** Runs `fn` once after `delayMs` (≤ 0: after what is already due), unless cancelled. */
  schedule (delayMs: number, fn: () => void): TimerHandle
}

/** Hosts fire a timer at once when its delay passes 2^31−1 ms; a doubled view-change timeout can get there. */
export const maxDelayMs = 2 ** 31 - 1

export function clampDelay (delayMs: number): number {
  return Math.min(maxDelayMs, Math.max(0, delayMs))
}

/** The host's clock and timers (setTimeout exists in Node and browsers alike). */
export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  schedule (delayMs, fn) {
    const t = setTimeout(fn, clampDelay(delayMs))
    return { cancel: () => { clearTimeout(t) } }
  }
}

/** Resolves after `ms`; with a signal, rejects with its reason once it aborts. */
export function sleep (scheduler: Scheduler, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) { reject(signal.reason); return }
    const onAbort = (): void => { timer.cancel(); reject(signal!.reason) }
    const timer = scheduler.schedule(ms, () => { signal?.removeEventListener('abort', onAbort); resolve() })
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** Calls `fn` every `ms` until the returned function is called; a period ≤ 0 never ticks. */
export function every (scheduler: Scheduler, ms: number, fn: () => void): () => void {
  let timer: TimerHandle | undefined
  let stopped = ms <= 0
  const arm = (): void => {
    if (stopped) return
    timer = scheduler.schedule(ms, () => { if (!stopped) { fn(); arm() } })
  }
  arm()
  return () => {
    stopped = true
    timer?.cancel()
  }
}

export class TimeoutError extends Error {
  override name = 'TimeoutError'
}

/** Settles as `promise` does, or rejects with a TimeoutError(`message`) after `ms`. */
export function withTimeout<T> (scheduler: Scheduler, promise: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = scheduler.schedule(ms, () => { reject(new TimeoutError(message)) })
    promise.then(v => { timer.cancel(); resolve(v) }, (e: unknown) => { timer.cancel(); reject(e) })
  })
}

/** A number in [0, 1), like Math.random. */
export type Random = () => number

export const systemRandom: Random = () => Math.random()

/** An integer in [0, n). */
export function randomInt (random: Random, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n))
}

/** A reproducible Random (sfc32) from a 32-bit seed: the same seed, the same sequence. */
export function seededRandom (seed: number): Random {
  let a = 0x9e3779b9
  let b = 0x243f6a88
  let c = 0xb7e15162
  let d = seed >>> 0
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
  for (let i = 0; i < 15; i++) next()
  return next
}
