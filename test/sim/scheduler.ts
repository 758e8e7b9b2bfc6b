import type { TimerHandle, TimerService } from '../../src/consensus/events/timers.ts'

interface Entry { at: number, seq: number, fn: () => void, cancelled: boolean }

/** Lets pending promise chains (memory-level writes, ledger commits) run to completion. */
export type Settle = () => Promise<void>

export const settleNode: Settle = async () => { await new Promise<void>(resolve => setImmediate(resolve)) }

/** A clock a simulation runs on: virtual (VirtualScheduler) or the real one (RealClock, for in-page demos). */
export interface SimClock extends TimerService {
  readonly steps: number
  sleep (ms: number): Promise<void>
  runFor (ms: number, stop?: () => boolean): Promise<void>
}

/**
 * Virtual time: timers fire in (time, arrival) order and the clock jumps from one to the next.
 * After each callback the scheduler lets promise chains settle, so asynchronous storage
 * completes "instantly" in virtual time. With one seeded PRNG feeding every choice, a run is a
 * pure function of its seed.
 */
export class VirtualScheduler implements SimClock {
  private time: number
  private seq = 0
  private heap: Entry[] = []
  steps = 0

  constructor (start = 1_700_000_000_000, private readonly settle: Settle = settleNode) {
    this.time = start
  }

  now (): number { return this.time }

  schedule (delayMs: number, fn: () => void): TimerHandle {
    const entry: Entry = { at: this.time + Math.max(0, Math.round(delayMs)), seq: this.seq++, fn, cancelled: false }
    this.push(entry)
    return { cancel: () => { entry.cancelled = true } }
  }

  /** A promise resolved after `ms` of virtual time. */
  sleep (ms: number): Promise<void> {
    return new Promise(resolve => this.schedule(ms, resolve))
  }

  /** Runs callbacks until `until` (virtual ms since epoch) or until `stop()` says so, checked after each step. */
  async runUntil (until: number, stop?: () => boolean, maxSteps = 5_000_000): Promise<void> {
    await this.settle()
    while (this.heap.length > 0 && this.heap[0].at <= until) {
      if (stop?.() === true) return
      const e = this.pop()
      if (e.cancelled) continue
      this.time = Math.max(this.time, e.at)
      e.fn()
      await this.settle()
      if (++this.steps > maxSteps) throw new Error(`simulation exceeded ${maxSteps} steps`)
    }
    if (stop?.() !== true) this.time = Math.max(this.time, until)
  }

  async runFor (ms: number, stop?: () => boolean): Promise<void> { await this.runUntil(this.time + ms, stop) }

  private push (e: Entry): void {
    const h = this.heap
    h.push(e)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!less(h[i], h[p])) break
      ;[h[i], h[p]] = [h[p], h[i]]
      i = p
    }
  }

  private pop (): Entry {
    const h = this.heap
    const top = h[0]
    const last = h.pop()!
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && less(h[l], h[m])) m = l
        if (r < h.length && less(h[r], h[m])) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m], h[i]]
        i = m
      }
    }
    return top
  }
}

function less (a: Entry, b: Entry): boolean { return a.at < b.at || (a.at === b.at && a.seq < b.seq) }

/** Real time with the same interface: timers are setTimeout, running is waiting (checked every 10 ms). */
export class RealClock implements SimClock {
  steps = 0
  now (): number { return Date.now() }

  schedule (delayMs: number, fn: () => void): TimerHandle {
    const t = setTimeout(() => { this.steps++; fn() }, Math.max(0, delayMs))
    return { cancel: () => clearTimeout(t) }
  }

  sleep (ms: number): Promise<void> { return new Promise(resolve => setTimeout(resolve, ms)) }

  async runFor (ms: number, stop?: () => boolean): Promise<void> {
    const end = Date.now() + ms
    while (Date.now() < end && stop?.() !== true) await this.sleep(Math.min(10, end - Date.now()))
  }
}
