// Reading ahead must leave nothing stale in the bucket tree's caches: with reads taken during a
// commit (before its write) answered only after it, hashes and later reads stay those of a tree
// that caches nothing.
import { describe, expect, it } from 'vitest'
import { toHex, utf8 } from '../../src/crypto/bytes.ts'
import { BucketTreeState } from '../../src/ledger/buckettree/state.ts'
import { StateDelta } from '../../src/ledger/state-delta.ts'
import { openColumns, WriteBatch, type KVStore } from '../../src/storage/index.ts'
import { memoryStore } from '../../src/storage/memory.ts'
import { seededRandom } from '../../src/util/scheduler.ts'

const tree = { numBuckets: 1000, maxGroupingAtEachLevel: 3 }
const hex = (b: Uint8Array | null | undefined): string => b == null ? '' : toHex(b)

/** A store whose batched reads, while the gate is shut, read at once but answer only when it opens. */
function gated (inner: KVStore): { store: KVStore, shut: () => void, open: () => void } {
  let held: (() => void)[] | undefined
  const hold = async <T>(p: Promise<T>): Promise<T> => {
    const waiting = held
    const v = await p
    if (waiting === undefined) return v
    return await new Promise<T>(resolve => waiting.push(() => resolve(v)))
  }
  return {
    store: { ...inner, getMany: keys => hold(inner.getMany(keys)), readRanges: ranges => hold(inner.readRanges(ranges)) },
    shut: () => { held = [] },
    open: () => {
      const h = held ?? []
      held = undefined
      // Reads still on their way in join the queue after this: release them as they come.
      h.push = (...releases) => { for (const release of releases) release(); return 0 }
      for (const release of h.splice(0)) release()
    }
  }
}

async function commit (state: BucketTreeState, store: KVStore, delta: StateDelta, hooks: { hashed?: () => void, cleared?: () => void } = {}): Promise<string> {
  state.prepareWorkingSet(delta)
  const hash = hex(await state.computeCryptoHash())
  hooks.hashed?.()
  const batch = new WriteBatch()
  await state.addChangesForPersistence(batch)
  await store.write(batch.ops)
  state.clearWorkingSet(true)
  hooks.cleared?.()
  return hash
}

describe('bucket tree read-ahead', () => {
  it('keeps hashes and reads exact while reads taken before a write land after its commit', async () => {
    const random = seededRandom(5)
    const { store, shut, open } = gated(await memoryStore())
    const plainStore = await memoryStore()
    const reading = await BucketTreeState.open(openColumns(store).state, tree, { cachedDataNodes: 250, cachedBucketNodes: 150 })
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}`)
    const values = new Map<string, string>()
    for (let round = 0; round < 30; round++) {
      const delta = new StateDelta()
      for (let i = 0; i < 40; i++) {
        const value = random() < 0.2 ? null : utf8(`v${round}.${i}`)
        delta.set('mycc', keys[Math.floor(random() * keys.length)], value, null)
      }
      // Committed reads taken during the commit, before its write, and answered after it.
      let early: Promise<unknown>[] = []
      const hashed = (): void => {
        shut()
        early = keys.map(async k => await reading.get('mycc', k))
      }
      const hashes = [await commit(reading, store, delta, { hashed, cleared: open })]
      await Promise.all(early)
      const plain = await BucketTreeState.open(openColumns(plainStore).state, tree, { cachedDataNodes: 0, cachedBucketNodes: 0 })
      hashes.push(await commit(plain, plainStore, delta))
      expect(hashes[0]).toBe(hashes[1])
      for (const e of delta.entries()) values.set(e.key, hex(e.value))
      // Every other round: reads ask ahead too, and what was asked is not asked again until a commit.
      if (round % 2 === 1) for (const key of keys) expect(hex(await reading.get('mycc', key))).toBe(values.get(key) ?? '')
    }
  })
})
