// The browser peer's write-behind store (web/app/write-behind.ts), checked in Node against a
// plain store: reads and range scans see queued writes, the store below only ever holds a
// prefix of the batches, and a failed flush is reported. (No Chromium needed: it is plain TS.)
import { describe, expect, it } from 'vitest'
import { toHex } from '../../src/crypto/bytes.ts'
import { batchOps, type BatchOp, type Bytes, type KVStore, type RangeOptions } from '../../src/storage/kv.ts'
import { memoryStore } from '../../src/storage/memory.ts'
import { WriteBehindStore } from '../../web/app/write-behind.ts'
import { seededRandom } from '../../src/util/scheduler.ts'

async function all (s: KVStore, r: RangeOptions): Promise<string[]> {
  const out: string[] = []
  for await (const [k, v] of s.entries(r)) out.push(`${toHex(k)}=${toHex(v)}`)
  return out
}

/** A store whose writes take a while, so flushes overlap reads and further writes. */
function slow (inner: KVStore, log?: BatchOp[][]): KVStore {
  return {
    location: 'slow',
    get: k => inner.get(k),
    getMany: ks => inner.getMany(ks),
    entries: r => inner.entries(r),
    readRanges: rs => inner.readRanges(rs),
    close: () => inner.close(),
    batch: () => inner.batch(),
    async write (ops) {
      await new Promise(resolve => setTimeout(resolve, 2))
      log?.push(batchOps(ops))
      await inner.write(ops)
    }
  }
}

describe('WriteBehindStore', () => {
  it('reads and range scans match a plain store through random writes and overlapping flushes', async () => {
    const random = seededRandom(7)
    const ref = await memoryStore()
    const wb = new WriteBehindStore(slow(await memoryStore()), { maxPendingOps: 300 })
    const key = (): Bytes => Uint8Array.of(Math.floor(random() * 3), Math.floor(random() * 40))
    for (let round = 0; round < 400; round++) {
      const ops: BatchOp[] = []
      for (let i = Math.floor(random() * 6); i >= 0; i--) {
        ops.push(random() < 0.7 ? { type: 'put', key: key(), value: Uint8Array.of(round, i) } : { type: 'del', key: key() })
      }
      await ref.write(ops)
      await wb.write(ops)
      const k = key()
      const hex = (b: Bytes | undefined): string | undefined => b === undefined ? undefined : toHex(b)
      expect(hex(await wb.get(k))).toEqual(hex(await ref.get(k)))
      if (round % 10 === 0) {
        const a = key()
        const b = key()
        const [lo, hi] = toHex(a) < toHex(b) ? [a, b] : [b, a]
        for (const r of [{ gte: lo, lt: hi }, { gt: lo, lte: hi, reverse: true }, { gte: lo, limit: 3 }, { lte: hi, reverse: true, limit: 2 }, {}] as RangeOptions[]) {
          expect(await all(wb, r)).toEqual(await all(ref, r))
        }
      }
    }
    await wb.flush()
    expect(await all(wb, {})).toEqual(await all(ref, {}))
    expect(wb.stats.flushes).toBeLessThan(wb.stats.batches) // batches were merged
  })

  it('hands the store whole batches in order, each key once per flush (a prefix survives a crash)', async () => {
    const log: BatchOp[][] = []
    const wb = new WriteBehindStore(slow(await memoryStore(), log))
    const sent: BatchOp[][] = []
    for (let i = 0; i < 50; i++) {
      const ops: BatchOp[] = [{ type: 'put', key: Uint8Array.of(1, i), value: Uint8Array.of(i) }, { type: 'put', key: Uint8Array.of(0), value: Uint8Array.of(i) }]
      sent.push(ops)
      await wb.write(ops)
    }
    await wb.flush()
    // Replaying the flushes gives what replaying the batches gives; no flush repeats a key.
    const replay = (batches: BatchOp[][]): Map<string, string> => {
      const m = new Map<string, string>()
      for (const b of batches) for (const o of b) { if (o.type === 'put') m.set(toHex(o.key), toHex(o.value)); else m.delete(toHex(o.key)) }
      return m
    }
    expect([...replay(log)].sort()).toEqual([...replay(sent)].sort())
    for (const flush of log) expect(new Set(flush.map(o => toHex(o.key))).size).toBe(flush.length)
    // Every flush ends on a batch boundary: the store after it equals the batches up to some point.
    let at = 0
    const flushedSoFar: BatchOp[][] = []
    for (const flush of log) {
      flushedSoFar.push(flush)
      const state = [...replay(flushedSoFar)].sort()
      while (at <= sent.length && JSON.stringify([...replay(sent.slice(0, at))].sort()) !== JSON.stringify(state)) at++
      expect(at).toBeLessThanOrEqual(sent.length)
    }
  })

  it('counts what is queued and written, the time flushes took and the time writers waited for them', async () => {
    const wb = new WriteBehindStore(slow(await memoryStore()), { maxPendingOps: 4 })
    // Two ops of 1-byte keys and 3-byte values: 8 bytes a batch.
    const batch = (i: number): BatchOp[] => [{ type: 'put', key: Uint8Array.of(i), value: Uint8Array.of(i, i, i) }, { type: 'put', key: Uint8Array.of(100 + i), value: Uint8Array.of(1, 2, 3) }]
    await wb.write(batch(0))
    expect(wb.pending).toEqual({ batches: 1, bytes: 8 })
    expect(wb.stats.waitMs).toBe(0)
    await wb.write(batch(1))
    await wb.write(batch(2)) // 6 ops queued > 4: this write waits for the store
    expect(wb.stats.waitMs).toBeGreaterThan(0)
    await wb.flush()
    expect(wb.pending).toEqual({ batches: 0, bytes: 0 })
    expect(wb.stats).toMatchObject({ batches: 3, ops: 6, bytes: 24 })
    expect(wb.stats.flushMs).toBeGreaterThan(0)
  })

  it('reports a failed flush and refuses later writes', async () => {
    const inner = await memoryStore()
    let errors = 0
    const failing: KVStore = { ...inner, location: 'full', write: async () => { throw new Error('QuotaExceededError: quota') } }
    const wb = new WriteBehindStore(failing, { onError: () => { errors++ } })
    await wb.write([{ type: 'put', key: Uint8Array.of(1), value: Uint8Array.of(1) }])
    await expect(wb.flush()).rejects.toThrow(/quota/)
    expect(errors).toBe(1)
    await expect(wb.write([{ type: 'put', key: Uint8Array.of(2), value: Uint8Array.of(2) }])).rejects.toThrow(/quota/)
  })
})
