// The bucket tree's caches and batched reads must not change a single hash: the same batches
// give the same hashes and the same stored bytes whether everything fits in memory, almost
// nothing does, or nothing is cached at all (a fresh open after every commit).
import { describe, expect, it } from 'vitest'
import { toHex, utf8 } from '../../src/crypto/bytes.ts'
import { BucketTreeState, type BucketTreeCacheOptions } from '../../src/ledger/buckettree/state.ts'
import { StateDelta } from '../../src/ledger/state-delta.ts'
import { openColumns, WriteBatch, type KVStore } from '../../src/storage/index.ts'
import { memoryStore } from '../../src/storage/memory.ts'
import { LruMap } from '../../src/util/lru.ts'
import { seededRandom } from '../../src/util/scheduler.ts'

const tree = { numBuckets: 19, maxGroupingAtEachLevel: 3 }

async function dump (store: KVStore): Promise<string[]> {
  const out: string[] = []
  for await (const [k, v] of store.entries({})) out.push(`${toHex(k)}=${toHex(v)}`)
  return out
}

async function commit (state: BucketTreeState, store: KVStore, delta: StateDelta): Promise<string> {
  state.prepareWorkingSet(delta)
  const hash = await state.computeCryptoHash()
  const batch = new WriteBatch()
  await state.addChangesForPersistence(batch)
  await store.write(batch.ops)
  state.clearWorkingSet(true)
  return toHex(hash ?? new Uint8Array(0))
}

describe('bucket tree caches', () => {
  it('hash and store the same with whole, tiny and no caches, through inserts, updates and deletes', async () => {
    const random = seededRandom(17)
    const caches: (BucketTreeCacheOptions | 'reopen')[] = [{}, { cachedDataNodes: 3, cachedBucketNodes: 2 }, { cachedDataNodes: 1, cachedBucketNodes: 1 }, 'reopen']
    const runs = await Promise.all(caches.map(async c => {
      const store = await memoryStore()
      return { c, store, state: await BucketTreeState.open(openColumns(store).state, tree, c === 'reopen' ? {} : c) }
    }))
    for (let round = 0; round < 60; round++) {
      const delta = new StateDelta()
      for (let i = Math.floor(random() * 12); i >= 0; i--) {
        const cc = random() < 0.8 ? 'mycc' : 'other'
        const key = `k${Math.floor(random() * 40)}`
        delta.set(cc, key, random() < 0.25 ? null : utf8(`v${round}.${i}`), null)
      }
      const hashes: string[] = []
      for (const r of runs) {
        if (r.c === 'reopen') r.state = await BucketTreeState.open(openColumns(r.store).state, tree)
        hashes.push(await commit(r.state, r.store, delta))
        // Reads agree with storage too, cached or not.
        for (const e of delta.entries()) {
          const value = await r.state.get(e.chaincodeID, e.key)
          expect(value === null ? null : toHex(value)).toBe(e.value === null ? null : toHex(e.value))
        }
      }
      expect(new Set(hashes).size).toBe(1)
    }
    const stored = await Promise.all(runs.map(r => dump(r.store)))
    for (const s of stored) expect(s).toEqual(stored[0])
    const reopened = await BucketTreeState.open(openColumns(runs[0].store).state, tree)
    expect(toHex((await reopened.computeCryptoHash()) ?? new Uint8Array(0))).toBe(toHex((await runs[1].state.computeCryptoHash()) ?? new Uint8Array(0)))
  })
})

describe('memoryStore', () => {
  it('keeps copies of what it is given to write: the bytes may be views into a buffer the writer reuses', async () => {
    const store = await memoryStore()
    const shared = Uint8Array.of(1, 2, 3, 4)
    await store.write([{ type: 'put', key: shared.subarray(0, 2), value: shared.subarray(2, 4) }])
    shared.fill(9)
    expect(toHex((await store.get(Uint8Array.of(1, 2)))!)).toBe('0304')
    expect(await store.get(Uint8Array.of(9, 9))).toBeUndefined()
  })
})

describe('KVStore.readRanges', () => {
  it('gives every range\'s entries as a scan would, bounds exclusive or inclusive', async () => {
    const store = await memoryStore()
    await store.write(Array.from({ length: 200 }, (_, i) => ({ type: 'put' as const, key: Uint8Array.of(i >> 4, i & 15), value: Uint8Array.of(i) })))
    const ranges = [
      { gte: Uint8Array.of(2, 3), lt: Uint8Array.of(2, 9) },
      { gt: Uint8Array.of(5), lte: Uint8Array.of(6, 2) },
      { gte: Uint8Array.of(3, 0), lt: Uint8Array.of(5, 0) },
      { gte: Uint8Array.of(40) },
      { gte: Uint8Array.of(9, 9), lt: Uint8Array.of(9, 9) },
      { lt: Uint8Array.of(0, 3) }
    ]
    const got = await store.readRanges(ranges)
    for (const [i, r] of ranges.entries()) {
      const want: [Uint8Array, Uint8Array][] = []
      for await (const e of store.entries(r)) want.push(e)
      expect(got[i].map(([k]) => toHex(k))).toEqual(want.map(([k]) => toHex(k)))
    }
    expect(got[2]).toHaveLength(32)
  })
})

describe('LruMap', () => {
  it('forgets the least recently used past its capacity, by weight', () => {
    const evicted: string[] = []
    const m = new LruMap<string, number[]>(4, v => v.length, k => evicted.push(k))
    m.set('a', [1])
    m.set('b', [1, 2])
    m.get('a')
    m.set('c', [1])
    expect(evicted).toEqual([])
    m.set('d', [1])
    expect(evicted).toEqual(['b'])
    expect(m.has('a') && m.has('c') && m.has('d')).toBe(true)
    m.set('a', [1, 2, 3])
    expect(evicted).toEqual(['b', 'c'])
    expect(m.size).toBe(2)
  })
})
