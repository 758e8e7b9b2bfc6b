import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { utf8, fromUtf8, toHex } from '../../src/crypto/bytes.ts'
import { computeCryptoHash } from '../../src/crypto/hash.ts'
import { callInPage, openEntry, reloadPage, screenshot, serveEntry, startBrowser, type ServedEntry, type WeftBrowser } from './harness.ts'

describe('browser-level (IndexedDB) persists across a page reload', () => {
  let browser: WeftBrowser
  let server: ServedEntry

  beforeAll(async () => {
    ;[browser, server] = await Promise.all([startBrowser(), serveEntry('test/browser/entries/storage-persist.ts')])
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('writes keys, reloads, reads them back', async () => {
    const page = await browser.newPage('storage')
    await openEntry(page, server.url)

    const entries: Array<[string, Uint8Array]> = []
    for (let i = 0; i < 200; i++) entries.push([`key:${String(i).padStart(4, '0')}`, utf8(`value ${i}`)])
    entries.push(['bin', Uint8Array.from([0, 1, 2, 254, 255])])
    expect(await callInPage(page, 'write', 'weft-test', entries)).toBe(entries.length)
    await callInPage(page, 'setVolatile', 'only in memory')
    expect(await callInPage(page, 'getVolatile')).toBe('only in memory')

    await reloadPage(page)

    // a reload really happened: page memory is gone, IndexedDB is not
    expect(await callInPage(page, 'getVolatile')).toBeUndefined()
    expect(await callInPage<string[]>(page, 'databases')).toContain('level-js-weft-test')
    const back = await callInPage<Array<[string, Uint8Array]>>(page, 'readAll', 'weft-test')
    const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    expect(back.map(([k, v]) => [k, Array.from(v)])).toEqual(sorted.map(([k, v]) => [k, Array.from(v)]))
    expect(fromUtf8(await callInPage<Uint8Array>(page, 'get', 'weft-test', 'key:0042'))).toBe('value 42')
    expect(await callInPage(page, 'get', 'weft-test', 'missing')).toBeUndefined()

    await screenshot(page, 'storage-persist')
    expect(browser.problems).toEqual([])
  })

  it('a second tab of the same origin sees the data', async () => {
    const other = await browser.newPage('storage-2')
    await openEntry(other, server.url)
    expect(fromUtf8(await callInPage<Uint8Array>(other, 'get', 'weft-test', 'key:0199'))).toBe('value 199')
    await other.close()
  })

  it('src/storage levelStore over browser-level persists across a reload', async () => {
    const page = await browser.newPage('kvstore')
    await openEntry(page, server.url)
    const keys = ['b', 'a', 'c\u0000', 'é'].map(utf8)
    await callInPage(page, 'storeWriteHashes', 'weft-kv', keys)
    await reloadPage(page)
    const back = await callInPage<Array<[Uint8Array, Uint8Array]>>(page, 'storeEntries', 'weft-kv')
    const want = keys.map(k => [toHex(k), toHex(computeCryptoHash(k))]).sort(([a], [b]) => (a < b ? -1 : 1))
    expect(back.map(([k, v]) => [toHex(k), toHex(v)])).toEqual(want) // byte order, hashes as in Node
    await page.close()
  })
})
