import { describe, expect, it } from 'vitest'
import { maxDelayMs, seededRandom, sleep, systemScheduler, TimeoutError, withTimeout } from '../../src/util/scheduler.ts'

describe('systemScheduler', () => {
  it('waits past 2^31-1 ms instead of firing at once, as a bare setTimeout does', async () => {
    let fired = 0
    const timers = [maxDelayMs + 1, 2 * maxDelayMs, Number.MAX_SAFE_INTEGER].map(ms => systemScheduler.schedule(ms, () => { fired++ }))
    await new Promise(resolve => setTimeout(resolve, 50))
    for (const t of timers) t.cancel()
    expect(fired).toBe(0)
  })

  it('runs a negative delay as soon as it can, and never a cancelled timer', async () => {
    const order: string[] = []
    const cancelled = systemScheduler.schedule(0, () => { order.push('cancelled') })
    systemScheduler.schedule(-100, () => { order.push('negative') })
    cancelled.cancel()
    await new Promise(resolve => setTimeout(resolve, 20))
    expect(order).toEqual(['negative'])
  })
})

describe('sleep and withTimeout', () => {
  it('sleep rejects with the abort reason, also when the signal aborted before it began', async () => {
    const c = new AbortController()
    const slept = sleep(systemScheduler, 60_000, c.signal)
    c.abort(new Error('stopping'))
    await expect(slept).rejects.toThrow('stopping')
    await expect(sleep(systemScheduler, 60_000, c.signal)).rejects.toThrow('stopping')
  })

  it('withTimeout rejects with a TimeoutError only when the promise is late', async () => {
    await expect(withTimeout(systemScheduler, new Promise(() => {}), 5, 'too slow')).rejects.toThrow(new TimeoutError('too slow'))
    await expect(withTimeout(systemScheduler, Promise.resolve(7), 5, 'too slow')).resolves.toBe(7)
    await expect(withTimeout(systemScheduler, Promise.reject(new Error('no')), 5, 'too slow')).rejects.toThrow('no')
  })
})

describe('seededRandom', () => {
  it('gives the same sequence for the same seed, a different one for another seed', () => {
    const draw = (seed: number): number[] => { const r = seededRandom(seed); return Array.from({ length: 1000 }, () => r()) }
    expect(draw(42)).toEqual(draw(42))
    expect(draw(42)).not.toEqual(draw(43))
    expect(draw(42).every(x => x >= 0 && x < 1)).toBe(true)
  })

  it('keeps the sfc32 sequence recorded simulation seeds replay against', () => {
    const r = seededRandom(42)
    expect([r(), r(), r()].map(x => x * 2 ** 32)).toEqual([2852766471, 4136168353, 1126838629])
  })
})
