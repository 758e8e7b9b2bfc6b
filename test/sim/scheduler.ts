import { sleep, systemScheduler, type Scheduler, type TimerHandle } from '../../src/util/scheduler.ts'

interface Entry { at: number, seq: number, fn: () => void, cancelled: boolean }

/** Lets pending promise chains (memory-level writes, ledger commits) run to completion. */
export type Settle = () => Promise<void>

export const settleNode: Settle = async () => { await new Promise<void>(resolve => setImmediate(resolve)) }

/** A clock a simulation runs on: virtual (VirtualScheduler) or the real one (RealClock, for in-page demos). */
export interface SimClock extends Scheduler {
  readonly steps: number
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

  /** Fires every timer due within `ms` at once, without letting promises settle in between: for unit tests that step time by hand. */
  advance (ms: number): void {
    const until = this.time + ms
    while (this.heap.length > 0 && this.heap[0].at <= until) {
      const e = this.pop()
      if (e.cancelled) continue
      this.time = Math.max(this.time, e.at)
      e.fn()
      this.steps++
    }
    this.time = until
  }

  /** Timers armed and neither fired nor cancelled. */
  get pending (): number { return this.heap.filter(e => !e.cancelled).length }

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

/** Real time with the same interface: the host's scheduler, counting the timers that fire; running is waiting (checked every 10 ms). */
export class RealClock implements SimClock {
  steps = 0
  now (): number { return systemScheduler.now() }

  schedule (delayMs: number, fn: () => void): TimerHandle {
    return systemScheduler.schedule(delayMs, () => { this.steps++; fn() })
  }

  async runFor (ms: number, stop?: () => boolean): Promise<void> {
    const end = this.now() + ms
    while (this.now() < end && stop?.() !== true) await sleep(systemScheduler, Math.min(10, end - this.now()))
  }
}
