import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { computeCryptoHash, fnv1a32 } from '../../src/crypto/hash.ts'
import { toHex, utf8 } from '../../src/crypto/bytes.ts'
import { callInPage, openEntry, screenshot, serveEntry, startBrowser, type ServedEntry, type WeftBrowser } from './harness.ts'

const inputs: Uint8Array[] = [
  new Uint8Array(0),
  utf8('a'),
  utf8('hello, fabric'),
  utf8('ü€😀 non-ascii'),
  Uint8Array.from({ length: 256 }, (_, i) => i),
  Uint8Array.from({ length: 100_000 }, (_, i) => (i * 31 + 7) & 0xff)
]

describe('crypto in Chromium', () => {
  let browser: WeftBrowser
  let server: ServedEntry
  let page: Page

  beforeAll(async () => {
    ;[browser, server] = await Promise.all([startBrowser(), serveEntry('test/browser/entries/crypto.ts')])
    page = await browser.newPage('crypto')
    await openEntry(page, server.url)
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('computeCryptoHash (SHAKE256/64) matches Node', async () => {
    for (const data of inputs) {
      const inPage = await callInPage<Uint8Array>(page, 'computeCryptoHash', data)
      expect(inPage).toBeInstanceOf(Uint8Array)
      expect(toHex(inPage)).toBe(toHex(computeCryptoHash(data)))
    }
    // SHAKE256("") prefix, as a fixed anchor independent of both runtimes
    expect(toHex(await callInPage<Uint8Array>(page, 'computeCryptoHash', new Uint8Array(0))).slice(0, 32))
      .toBe('46b9dd2b0ba88d13233b3feb743eeb24')
  })

  it('fnv1a32 matches Node', async () => {
    for (const data of inputs) {
      expect(await callInPage<number>(page, 'fnv1a32', data)).toBe(fnv1a32(data))
    }
    expect(await callInPage<number>(page, 'fnv1a32', utf8('a'))).toBe(0xe40c292c)
  })

  it('batch call returns structured results', async () => {
    const got = await callInPage<Array<{ shake: Uint8Array, fnv: number }>>(page, 'hashAll', inputs)
    expect(got.map(r => [toHex(r.shake), r.fnv])).toEqual(inputs.map(d => [toHex(computeCryptoHash(d)), fnv1a32(d)]))
  })

  it('runs in Chromium and reports page errors back to Node', async () => {
    expect(await callInPage<string>(page, 'userAgent')).toMatch(/Chrome\//)
    await expect(callInPage(page, 'noSuchFunction')).rejects.toThrow(/no test function "noSuchFunction"/)
    const file = await screenshot(page, 'crypto')
    expect(file).toMatch(/test-results\/crypto\.png$/)
    expect(browser.problems).toEqual([])
  })
})
