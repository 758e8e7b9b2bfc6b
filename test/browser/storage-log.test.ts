// The browser's IndexedDB store (web/storage.ts): a log of few large records behind KVStore.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callInPage, openEntry, serveEntry, startBrowser, type ServedEntry, type WeftBrowser } from './harness.ts'

interface Parity { mismatches: string[], stats: { records: number, batches: number, snapshots: number }, memory: { keys: number, valueBytes: number, records: number, valueRecords: number }, keys: number }

describe('the IndexedDB log store in Chromium', () => {
  let browser: WeftBrowser
  let server: ServedEntry

  beforeAll(async () => {
    ;[browser, server] = await Promise.all([startBrowser(), serveEntry('test/browser/entries/storage-log.ts')])
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('answers puts, deletes, ranges, reverse and limits as the memory store does, with snapshots, large values read back, and after a reopen', async () => {
    const page = await browser.newPage('parity')
    await openEntry(page, server.url)
    // Small values inline up to 64 bytes, a snapshot every few hundred ops: both paths run often.
    const r = await callInPage<Parity>(page, 'parity', 'weft-parity', 1, 300, { inlineMax: 64, snapshotAfterOps: 400, cacheBytes: 1024 })
    expect(r.mismatches).toEqual([])
    expect(r.stats.snapshots).toBeGreaterThan(3)
    expect(r.stats.records).toBeLessThan(r.stats.batches) // writes issued together shared a record
    expect(r.memory.keys).toBeGreaterThan(20)
    // Snapshots dropped the batch records they cover, and the values records nothing points into.
    expect(r.memory.records).toBeLessThan(r.stats.records / 3)
    expect(r.memory.valueRecords).toBeGreaterThan(0)
    expect(r.memory.valueRecords).toBeLessThan(r.stats.records / 2)
    // Defaults: no snapshot in so few ops, every value inline; the whole log replays on reopen.
    const plain = await callInPage<Parity>(page, 'parity', 'weft-parity-plain', 2, 100, {})
    expect(plain.mismatches).toEqual([])
    expect(plain.stats.snapshots).toBe(0)
    expect(browser.problems).toEqual([])
    await page.close()
  }, 120_000)

  it('drops a damaged last record (the state is as before that write) and refuses a damaged one in the middle', async () => {
    const page = await browser.newPage('torn')
    await openEntry(page, server.url)
    const r = await callInPage<{ before: string[], reopened: string[], after: string[] }>(page, 'tornLast', 'weft-torn')
    expect(r.before).toEqual(['02=0202'])
    expect(r.reopened).toEqual(r.before)
    expect(r.after).toEqual(['02=0202', '09=09'])
    expect(await callInPage(page, 'damagedMiddle', 'weft-damaged')).toEqual({ code: 'CORRUPT', name: 'StorageError' })
    await page.close()
  })

  it('a write past the quota fails whole with QUOTA, and the store goes on once there is room', async () => {
    // A browser of its own: Chromium enforced the quota override only in a fresh profile, not after other pages of the origin.
    const own = await startBrowser()
    const page = await own.newPage('quota')
    await openEntry(page, server.url)
    const origin = new URL(server.url).origin
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 4 << 20 })
    const r = await callInPage<{ code?: string, written: number, unchanged: boolean }>(page, 'fillQuota', 'weft-quota', 3 << 20)
    expect(r.code).toBe('QUOTA')
    expect(r.unchanged).toBe(true)
    await cdp.send('Storage.overrideQuotaForOrigin', { origin })
    const want = ['00', ...Array.from({ length: r.written }, (_, i) => [(0x10 + i).toString(16), (0x80 + i).toString(16)]).flat(), 'ff'].sort()
    expect(await callInPage(page, 'afterQuota', 'weft-quota')).toEqual(want)
    await own.close()
  })

  it('converts a store in the old one-record-per-key layout on open, and deletes the old database', async () => {
    const page = await browser.newPage('convert')
    await openEntry(page, server.url)
    const entries = Array.from({ length: 3000 }, (_, i) => [Uint8Array.of(i >> 8, i & 255), new Uint8Array(i % 700).fill(i & 255)])
    const r = await callInPage<{ read: string[], again: string[], databasesBefore: string[], databasesAfter: string[] }>(page, 'convert', 'weft-old', entries)
    expect(r.databasesBefore).toContain('level-js-weft-old')
    expect(r.read).toHaveLength(3000)
    expect(r.read[5]).toBe(`0005=${'05'.repeat(5)}`)
    expect(r.again).toEqual(r.read)
    expect(r.databasesAfter).toContain('weft-log-weft-old')
    expect(r.databasesAfter).not.toContain('level-js-weft-old')
    await page.close()
  })

  it('refuses a second open of a store that is open (another tab would write the same log)', async () => {
    const page = await browser.newPage('lock')
    await openEntry(page, server.url)
    expect(await callInPage(page, 'openTwice', 'weft-lock')).toBe('LOCKED')
    await page.close()
  })
})
