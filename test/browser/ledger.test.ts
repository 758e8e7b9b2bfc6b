import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callInPage, openEntry, reloadPage, screenshot, serveEntry, startBrowser, type ServedEntry, type WeftBrowser } from './harness.ts'

const vectors = (file: string) => JSON.parse(readFileSync(new URL(`../vectors/${file}`, import.meta.url), 'utf8')) as { cases: unknown[] }

describe('the ledger in Chromium on IndexedDB', () => {
  let browser: WeftBrowser
  let server: ServedEntry

  beforeAll(async () => {
    ;[browser, server] = await Promise.all([startBrowser(), serveEntry('test/browser/entries/ledger.ts')])
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('passes every state-hash and block-hash vector', async () => {
    const page = await browser.newPage('vectors')
    await openEntry(page, server.url)
    const state = await callInPage<{ name: string, ok: boolean, detail?: string }[]>(page, 'stateHashVectors', vectors('state-hash.json').cases)
    expect(state.filter(r => !r.ok)).toEqual([])
    expect(state).toHaveLength(vectors('state-hash.json').cases.length)
    const blocks = await callInPage<{ name: string, ok: boolean }[]>(page, 'blockHashVectors', vectors('block-hash.json').cases)
    expect(blocks.filter(r => !r.ok)).toEqual([])
    expect(blocks).toHaveLength(vectors('block-hash.json').cases.length)
    await page.close()
  }, 180_000)

  it('commits blocks, reloads the page, and reads the same chain and state hash', async () => {
    const page = await browser.newPage('chain')
    await openEntry(page, server.url)
    const before = await callInPage<Record<string, unknown>>(page, 'commitBlocks', 'weft-chain', 40)
    expect(before.height).toBe(41)
    expect(before.stateHash).toBe(before.lastBlockStateHash)
    await reloadPage(page)
    const after = await callInPage<Record<string, unknown>>(page, 'readChain', 'weft-chain')
    expect(after).toEqual(before)
    expect(after.intactDownTo).toBe(0)
    const more = await callInPage<Record<string, unknown>>(page, 'commitBlocks', 'weft-chain', 2)
    expect(more.height).toBe(43)
    await screenshot(page, 'ledger-after-reload')
    expect(browser.problems).toEqual([])
  }, 120_000)
})
