// Runs in the tab: the IndexedDB log store (web/storage.ts) against the memory store, across
// reopens and snapshots, with damaged records, a full quota, the old layout and a second opener.
import { BrowserLevel } from 'browser-level'
import { toHex } from '../../../src/crypto/bytes.ts'
import { memoryStore } from '../../../src/storage/memory.ts'
import type { BatchOp, Bytes, KVStore, RangeOptions } from '../../../src/storage/kv.ts'
import { randomInt, seededRandom, type Random } from '../../../src/util/scheduler.ts'
import { logDatabaseName, openIndexedDB, type LogStoreOptions } from '../../../web/storage.ts'
import { exposeTestApi } from '../page-api.ts'

const ALPHABET = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff]

function key (random: Random): Bytes {
  return Uint8Array.from({ length: randomInt(random, 3) + 1 }, () => ALPHABET[randomInt(random, ALPHABET.length)])
}

function randomBatch (random: Random, maxValue: number): BatchOp[] {
  return Array.from({ length: randomInt(random, 30) + 1 }, (): BatchOp => random() < 0.25
    ? { type: 'del', key: key(random) }
    : { type: 'put', key: key(random), value: Uint8Array.from({ length: randomInt(random, maxValue) }, () => randomInt(random, 256)) })
}

function randomRange (random: Random): RangeOptions {
  const r: RangeOptions = {}
  const pick = random()
  if (pick < 0.3) r.gte = key(random)
  else if (pick < 0.6) r.gt = key(random)
  const pick2 = random()
  if (pick2 < 0.3) r.lte = key(random)
  else if (pick2 < 0.6) r.lt = key(random)
  if (random() < 0.5) r.reverse = true
  if (random() < 0.4) r.limit = randomInt(random, 6)
  return r
}

let quotaStore: KVStore | undefined

async function keys (store: KVStore): Promise<string[]> {
  const out: string[] = []
  for await (const [k] of store.entries({})) out.push(toHex(k))
  return out
}

const hex = (entries: Array<[Bytes, Bytes]>): string[] => entries.map(([k, v]) => `${toHex(k)}=${toHex(v)}`)

async function all (store: KVStore, range: RangeOptions = {}): Promise<string[]> {
  const out: Array<[Bytes, Bytes]> = []
  for await (const e of store.entries(range)) out.push(e)
  return hex(out)
}

/** Where the two stores answer differently: ranges, readRanges, getMany, get. */
async function differences (random: Random, a: KVStore, b: KVStore, what: string): Promise<string[]> {
  const out: string[] = []
  const same = (label: string, x: unknown, y: unknown): void => { if (JSON.stringify(x) !== JSON.stringify(y)) out.push(`${what} ${label}: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`) }
  same('all', await all(a), await all(b))
  for (let i = 0; i < 20; i++) {
    const r = randomRange(random)
    same(`entries ${JSON.stringify(r, (_, v: unknown) => v instanceof Uint8Array ? toHex(v) : v)}`, await all(a, r), await all(b, r))
  }
  const ranges = Array.from({ length: 8 }, () => ({ ...randomRange(random), reverse: undefined, limit: undefined }))
  same('readRanges', (await a.readRanges(ranges)).map(hex), (await b.readRanges(ranges)).map(hex))
  const keys = Array.from({ length: 12 }, () => key(random))
  const vals = (vs: Array<Bytes | undefined>): Array<string | null> => vs.map(v => v === undefined ? null : toHex(v))
  same('getMany', vals(await a.getMany(keys)), vals(await b.getMany(keys)))
  same('get', vals(await Promise.all(keys.map(k => a.get(k)))), vals(await Promise.all(keys.map(k => b.get(k)))))
  return out
}

exposeTestApi('storage-log', {
  /**
   * The same random batches into the memory store and the log store (some issued together, so
   * they share a record), comparing every kind of read as it goes, then after a reopen.
   */
  async parity (name: string, seed: number, rounds: number, opts: LogStoreOptions) {
    const random = seededRandom(seed)
    const mem = await memoryStore()
    let idb = await openIndexedDB(name, opts)
    const mismatches: string[] = []
    for (let round = 0; round < rounds; round++) {
      const batches = Array.from({ length: random() < 0.3 ? 3 : 1 }, () => randomBatch(random, 2 * (opts.inlineMax ?? 64)))
      await Promise.all(batches.map(b => idb.write(b)))
      for (const b of batches) await mem.write(b)
      if (round % 10 === 9) mismatches.push(...await differences(random, mem, idb, `round ${round}`))
    }
    const stats = { ...idb.stats }
    const memory = idb.memory
    await idb.close()
    idb = await openIndexedDB(name, opts)
    mismatches.push(...await differences(random, mem, idb, 'reopened'))
    // And it goes on from where it was.
    const more = randomBatch(random, 200)
    await idb.write(more)
    await mem.write(more)
    mismatches.push(...await differences(random, mem, idb, 'written after reopen'))
    await idb.close()
    return { mismatches, stats, memory, keys: (await all(mem)).length }
  },

  /** Writes batches, then leaves a damaged copy of the last record after them, as a write cut short would. */
  async tornLast (name: string) {
    let store = await openIndexedDB(name)
    for (let i = 0; i < 3; i++) await store.write([{ type: 'put', key: Uint8Array.of(i), value: Uint8Array.of(i, i) }, { type: 'del', key: Uint8Array.of(i - 1) }])
    const before = await all(store)
    await store.close()
    await rawLog(name, async os => {
      const seqs = await req<number[]>(os.getAllKeys())
      const last = seqs[seqs.length - 1]
      const rec = await req<Uint8Array>(os.get(last))
      await req(os.put(rec.slice(0, rec.byteLength - 3), last + 1))
    })
    store = await openIndexedDB(name)
    const reopened = await all(store)
    await store.write([{ type: 'put', key: Uint8Array.of(9), value: Uint8Array.of(9) }])
    await store.close()
    store = await openIndexedDB(name)
    const after = await all(store)
    await store.close()
    return { before, reopened, after }
  },

  /** Damages a record that later records follow: opening must refuse, not serve a wrong state. */
  async damagedMiddle (name: string) {
    const store = await openIndexedDB(name)
    for (let i = 0; i < 3; i++) await store.write([{ type: 'put', key: Uint8Array.of(i), value: Uint8Array.of(i) }])
    await store.close()
    await rawLog(name, async os => {
      const first = (await req<number[]>(os.getAllKeys()))[0]
      const rec = await req<Uint8Array>(os.get(first))
      rec[0] ^= 0xff
      await req(os.put(rec, first))
    })
    try {
      await (await openIndexedDB(name)).close()
      return { code: 'opened' }
    } catch (err) {
      return { code: (err as { code?: string }).code, name: (err as Error).name }
    }
  },

  /**
   * Writes batches with a large (incompressible) value until one fails: it must fail whole, with
   * QUOTA, and leave the store as it was. The store stays open for afterQuota.
   */
  async fillQuota (name: string, bigBytes: number) {
    quotaStore = await openIndexedDB(name)
    await quotaStore.write([{ type: 'put', key: Uint8Array.of(0), value: Uint8Array.of(0) }])
    const big = new Uint8Array(bigBytes)
    for (let i = 0; i < 20; i++) {
      for (let at = 0; at < big.length; at += 65536) crypto.getRandomValues(big.subarray(at, at + 65536))
      const before = await keys(quotaStore)
      try {
        await quotaStore.write([{ type: 'put', key: Uint8Array.of(0x10 + i), value: big }, { type: 'put', key: Uint8Array.of(0x80 + i), value: Uint8Array.of(i) }])
      } catch (err) {
        return { code: (err as { code?: string }).code, written: i, unchanged: JSON.stringify(await keys(quotaStore)) === JSON.stringify(before) }
      }
    }
    return { code: undefined }
  },

  /** With room again: the store fillQuota left open takes writes, and a reopen reads them. */
  async afterQuota (name: string) {
    await quotaStore!.write([{ type: 'put', key: Uint8Array.of(0xff), value: Uint8Array.of(1) }])
    await quotaStore!.close()
    const store = await openIndexedDB(name)
    const back = await keys(store)
    await store.close()
    return back
  },

  /** A store browser-level wrote one record per key: opening it converts it, and the old database goes. */
  async convert (name: string, entries: Array<[Bytes, Bytes]>) {
    const level = new BrowserLevel<Uint8Array, Uint8Array>(name, { keyEncoding: 'view', valueEncoding: 'view' })
    await level.batch(entries.map(([key, value]) => ({ type: 'put' as const, key, value })))
    await level.close()
    const databasesBefore = (await indexedDB.databases()).map(d => d.name)
    const store = await openIndexedDB(name)
    const read = await all(store)
    await store.close()
    // The old database is deleted in the background.
    for (let i = 0; i < 50 && (await indexedDB.databases()).some(d => d.name === `level-js-${name}`); i++) await new Promise(resolve => setTimeout(resolve, 20))
    const reopened = await openIndexedDB(name)
    const again = await all(reopened)
    await reopened.close()
    return { read, again, databasesBefore, databasesAfter: (await indexedDB.databases()).map(d => d.name) }
  },

  /** A second open of a store that is open fails with LOCKED; once closed, it opens. */
  async openTwice (name: string) {
    const first = await openIndexedDB(name)
    let code: string | undefined
    try { await (await openIndexedDB(name)).close() } catch (err) { code = (err as { code?: string }).code }
    await first.close()
    const again = await openIndexedDB(name)
    await again.close()
    return code
  }
})

async function rawLog (name: string, fn: (os: IDBObjectStore) => Promise<void>): Promise<void> {
  const db = await req<IDBDatabase>(indexedDB.open(logDatabaseName(name)))
  try {
    const tx = db.transaction('log', 'readwrite')
    await fn(tx.objectStore('log'))
    await new Promise(resolve => { tx.oncomplete = resolve })
  } finally {
    db.close()
  }
}

function req<T = unknown> (r: IDBRequest | IDBOpenDBRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result as T)
    r.onerror = () => reject(r.error)
  })
}
