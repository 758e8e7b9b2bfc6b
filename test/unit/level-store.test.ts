// The LevelDB store's batches (src/storage/level.ts over classic-level): ops go into LevelDB's
// own batch as they are added and land in one write, or not at all.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { fromUtf8, utf8 } from '../../src/crypto/bytes.ts'
import { memoryStore } from '../../src/storage/memory.ts'
import type { KVStore } from '../../src/storage/kv.ts'
import { openLevelDB } from '../../node/storage.ts'

const dirs: string[] = []
afterEach(async () => { for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true }) })

async function open (): Promise<{ store: KVStore, dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-level-'))
  dirs.push(dir)
  return { store: await openLevelDB(dir), dir }
}

const text = async (store: KVStore, key: string): Promise<string | undefined> => {
  const v = await store.get(utf8(key))
  return v === undefined ? undefined : fromUtf8(v)
}

describe('LevelDB store batches', () => {
  it('writes a batch\'s puts and deletes together, with views into one buffer as keys and values', async () => {
    const { store } = await open()
    await store.write([{ type: 'put', key: utf8('gone'), value: utf8('x') }])
    const batch = store.batch()
    const shared = utf8('k1v1k2v2')
    batch.put(shared.subarray(0, 2), shared.subarray(2, 4))
    batch.put(shared.subarray(4, 6), shared.subarray(6, 8))
    batch.del(utf8('gone'))
    expect(batch.length).toBe(3)
    expect(await text(store, 'k1')).toBeUndefined()
    await store.write(batch)
    expect([await text(store, 'k1'), await text(store, 'k2'), await text(store, 'gone')]).toEqual(['v1', 'v2', undefined])
    await store.close()
  })

  it('writes nothing of a discarded batch, and still closes', async () => {
    const { store, dir } = await open()
    const batch = store.batch()
    batch.put(utf8('a'), utf8('1'))
    batch.discard()
    await store.close()
    const again = await openLevelDB(dir)
    expect(await text(again, 'a')).toBeUndefined()
    await again.close()
  })

  it('refuses a batch another store made, writing nothing', async () => {
    const { store } = await open()
    const other = await memoryStore()
    const foreign = other.batch()
    foreign.put(utf8('a'), utf8('1'))
    const fromLevel = store.batch()
    fromLevel.put(utf8('b'), utf8('2'))
    await expect(store.write(foreign)).resolves.toBeUndefined()
    await expect(other.write(fromLevel)).rejects.toThrow(/another store/)
    expect(await other.get(utf8('b'))).toBeUndefined()
    fromLevel.discard()
    await store.close()
  })

  it('names a write to a closed database as such', async () => {
    const { store } = await open()
    const batch = store.batch()
    await store.close()
    await expect(store.write([{ type: 'put', key: utf8('a'), value: utf8('1') }])).rejects.toMatchObject({ name: 'StorageError' })
    expect(() => batch.put(utf8('a'), utf8('1'))).toThrow()
  })
})
