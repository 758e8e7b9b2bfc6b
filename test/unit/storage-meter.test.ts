import { describe, expect, it } from 'vitest'
import type { WriteBehindStore } from '../../web/app/write-behind.ts'
import { StorageMeter } from '../../web/demo/storage-meter.ts'

/** A write-behind store's counters, moved by hand. */
function fakeStore (): { store: WriteBehindStore, stats: WriteBehindStore['stats'], pending: { batches: number, bytes: number } } {
  const stats = { flushes: 0, batches: 0, ops: 0, bytes: 0, flushMs: 0, waitMs: 0 }
  const pending = { batches: 0, bytes: 0 }
  const store = { stats, get pending () { return { ...pending } }, flush: async () => {} } as unknown as WriteBehindStore
  return { store, stats, pending }
}

/** One second in which the store's flushes ran `flushMs`, wrote a block, and left `queued` bytes. */
function second (s: ReturnType<typeof fakeStore>, flushMs: number, queued: number, waitMs = 0): void {
  s.stats.flushMs += flushMs
  s.stats.waitMs += waitMs
  s.stats.flushes++
  s.stats.batches++
  s.stats.ops += 100
  s.stats.bytes += 10_000
  s.pending.batches = queued > 0 ? 1 : 0
  s.pending.bytes = queued
}

describe('StorageMeter', () => {
  it('calls IndexedDB the bottleneck when flushes run all the time and the queue grows', () => {
    const s = fakeStore()
    const meter = new StorageMeter('indexeddb')
    meter.add('vp0', s.store)
    meter.sample(0)
    second(s, 950, 50_000)
    const r = meter.sample(1000)
    expect(r.bottleneck).toBe(true)
    expect(r.busiest).toBe('vp0')
    expect(r.busy).toBeCloseTo(0.95)
  })

  it('does not when flushes run all the time but the queue stays level (a tab short of CPU)', () => {
    const s = fakeStore()
    const meter = new StorageMeter('indexeddb')
    meter.add('vp0', s.store)
    second(s, 0, 20_000)
    meter.sample(0)
    second(s, 950, 20_000)
    expect(meter.sample(1000).bottleneck).toBe(false)
    second(s, 950, 5_000)
    expect(meter.sample(2000).bottleneck).toBe(false)
  })

  it('does when writers had to wait for a flush, whatever the queue', () => {
    const s = fakeStore()
    const meter = new StorageMeter('indexeddb')
    meter.add('vp0', s.store)
    meter.sample(0)
    second(s, 300, 0, 12)
    const r = meter.sample(1000)
    expect(r.bottleneck).toBe(true)
    expect(r.waitedMs).toBe(12)
  })

  it('never for memory storage', () => {
    const s = fakeStore()
    const meter = new StorageMeter('memory')
    meter.add('vp0', s.store)
    meter.sample(0)
    second(s, 1000, 50_000, 40)
    expect(meter.sample(1000).bottleneck).toBe(false)
  })
})
