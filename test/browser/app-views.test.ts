// Every view of the web app, driven as a user would (clicks, typing, the location hash) against
// a Node peer with a preloaded chain, asserting what the DOM shows: the peer table, the block
// list's pages, search results for a txid, a block, a chaincode, a rejection and nothing, copy buttons (and
// their fallback), the chaincode console before and after a deploy, the event stream, log
// levels taking effect, and no sideways page scroll at 400 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { openApp, showView, startTestPeer, waitInPage, type TestPeer } from './app-harness.ts'
import { startBrowser, type WeftBrowser } from './harness.ts'

// Thousands of blocks: the explorer pages through them and a chaincode search goes on in steps.
const PRELOAD = 2500
const HEIGHT = PRELOAD + 1

describe('web app views', () => {
  let peer: TestPeer
  let browser: WeftBrowser
  let page: Page
  let chaincode = ''
  let invoked = ''
  let rejected = ''

  beforeAll(async () => {
    ;[peer, browser] = await Promise.all([startTestPeer({ preload: PRELOAD }), startBrowser({ verbose: false })])
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(peer.url).origin })
    page = await browser.newPage('views')
    await openApp(page, peer.url)
    await waitInPage(page, 'the preloaded chain', h => window.weft.height === h, 30_000, HEIGHT)
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
    await peer?.stop()
  })

  const rows = (p: Page): Promise<number[]> => p.$$eval('#view-blocks .block-list details.block', els => els.map(e => Number(e.getAttribute('data-block'))))
  const search = async (what: string): Promise<{ kind: string, text: string }> => {
    await showView(page, 'blocks')
    await page.fill('#view-blocks input.search', what)
    await page.click('#view-blocks .search-row button[type=submit]')
    await page.waitForSelector('#explorer-result[data-kind]')
    return await page.$eval('#explorer-result', e => ({ kind: (e as HTMLElement).dataset.kind!, text: e.textContent ?? '' }))
  }

  it('Peer view: the Node peer in the connected peers table, this tab\'s id, the height in the header', async () => {
    await showView(page, 'peer')
    const row = await page.waitForSelector('#view-peer table tr:has(td b:text-is("vp0"))')
    expect(await row.$$eval('td', tds => tds.map(t => t.textContent))).toEqual(expect.arrayContaining(['validator', 'ws', 'established']))
    const id = await page.evaluate(() => window.weft.peerId)
    expect(await page.textContent('#view-peer')).toContain(id)
    const height = await page.$$eval('header.top .kv', kvs => kvs.find(k => k.querySelector('.k')?.textContent === 'height')?.querySelector('.v')?.textContent)
    expect(height).toBe(String(HEIGHT))
  })

  it('Explorer: 20 blocks a page, newest first; older, oldest, newer and newest move through the chain', async () => {
    await showView(page, 'blocks')
    await waitInPage(page, 'the first page', () => document.querySelectorAll('#view-blocks .block-list details.block').length === 20)
    const first = await rows(page)
    expect(first).toEqual(Array.from({ length: 20 }, (_, i) => HEIGHT - 1 - i))
    expect(await page.textContent('#view-blocks .pager .range')).toBe(`#${HEIGHT - 1} to #${HEIGHT - 20} of ${HEIGHT}`)
    expect(await page.isDisabled('#view-blocks [data-page=newer]')).toBe(true)

    const turn = async (to: string, top: number): Promise<number[]> => {
      await page.click(`#view-blocks [data-page=${to}]`)
      await waitInPage(page, `block #${top} on top`, t => document.querySelector('#view-blocks .block-list details.block')?.getAttribute('data-block') === String(t), 10_000, top)
      return await rows(page)
    }
    expect(await turn('older', HEIGHT - 21)).toEqual(Array.from({ length: 20 }, (_, i) => HEIGHT - 21 - i))
    expect(await page.isDisabled('#view-blocks [data-page=newer]')).toBe(false)
    const oldest = await turn('oldest', 19)
    expect(oldest.at(-1)).toBe(0)
    expect(oldest).toHaveLength(20)
    expect(await page.isDisabled('#view-blocks [data-page=older]')).toBe(true)
    expect(await turn('newer', 39)).toEqual(Array.from({ length: 20 }, (_, i) => 39 - i))
    expect(await turn('newest', HEIGHT - 1)).toHaveLength(20)

    // A block opens to its hashes and transaction, the txid linking to a search.
    await page.click(`#view-blocks .block-list details[data-block="${HEIGHT - 1}"] > summary`)
    const body = await page.textContent(`#view-blocks .block-list details[data-block="${HEIGHT - 1}"] .body`)
    const block = (await page.evaluate(() => window.weft.blocks(1)))[0]
    expect(body).toContain(block.hash)
    expect(body).toContain(block.previousHash)
    expect(await page.getAttribute(`#view-blocks .block-list details[data-block="${HEIGHT - 1}"] tr[data-txid] a`, 'href')).toBe(`#blocks/tx/${block.txs[0].txid}`)
  })

  it('Chaincode view: shows the example\'s TypeScript, no invoke or query before a deploy, then deploy, invoke and query', async () => {
    await showView(page, 'chaincode')
    const source = await waitInPage(page, 'the example source', () => document.querySelector<HTMLTextAreaElement>('#view-chaincode textarea')?.value)
    expect(source).toMatch(/stub: ChaincodeStub/)
    expect(source).toMatch(/^import .* from '\.\/lib\/go\.ts'$/m)
    const invoke = '#view-chaincode button:text-is("Invoke")'
    const query = '#view-chaincode button:text-is("Query")'
    expect(await page.isDisabled(invoke)).toBe(true)
    expect(await page.isDisabled(query)).toBe(true)
    expect(await page.isVisible('#view-chaincode .hint')).toBe(true)
    // Without security there are no users to log in.
    expect(await page.isVisible('#login-user')).toBe(false)

    await page.click('#view-chaincode button:text-is("Deploy")')
    const deployed = await page.waitForSelector('#view-chaincode .result.ok:has-text("deployed")', { timeout: 30_000 }).then(e => e.textContent())
    chaincode = /as ([0-9a-f]{128})/.exec(deployed ?? '')![1]
    expect(await page.isDisabled(invoke)).toBe(false)
    expect(await page.isVisible('#view-chaincode .hint')).toBe(false)

    await page.click(invoke)
    const done = await page.waitForSelector('#view-chaincode .result.ok:has-text("committed in block")', { timeout: 30_000 }).then(e => e.textContent())
    invoked = /txid (\S+)/.exec(done ?? '')![1]
    const block = Number(/block #(\d+)/.exec(done ?? '')![1])
    expect(block).toBeGreaterThan(PRELOAD)
    await page.click(query)
    await page.waitForSelector('#view-chaincode .result.ok:has-text("→ 90")')

    // The history scrolls inside its card however long it gets.
    for (let i = 0; i < 14; i++) {
      await page.click(query)
      await page.waitForFunction(() => !document.querySelector<HTMLButtonElement>('#view-chaincode button.running'))
    }
    const box = await page.$eval('#view-chaincode ul.history', ul => {
      const card = ul.closest('.panel')!.getBoundingClientRect()
      const r = ul.getBoundingClientRect()
      return { items: ul.children.length, scrolls: ul.scrollHeight > ul.clientHeight, inside: r.bottom <= card.bottom && r.right <= card.right }
    })
    expect(box).toEqual({ items: 17, scrolls: true, inside: true })

    // A refused invoke, for the explorer below.
    const msg = await page.evaluate(name => window.weft.invoke(name, ['invoke', 'a']).then(() => '', (e: Error & { txid?: string }) => e.txid ?? ''), chaincode)
    expect(msg).not.toBe('')
    rejected = msg
    // Noops runs a transaction as it arrives, so the rejection comes before its block (block.wait later).
    await waitInPage(page, 'the block after the refused invoke', async () => (await window.weft.blocks(1))[0]?.failed > 0)
  }, 90_000)

  it('Explorer: the new blocks on top; search finds a txid, a block, a chaincode, a rejection, and says when nothing is found', async () => {
    await showView(page, 'blocks')
    const height = await page.evaluate(() => window.weft.height)
    await waitInPage(page, 'the newest block on top', h => document.querySelector('#view-blocks .block-list details.block')?.getAttribute('data-block') === String(h - 1), 10_000, height)

    const tx = await search(invoked)
    expect(tx.kind).toBe('tx')
    expect(tx.text).toContain('committed')
    expect(await page.$eval('#explorer-result .tx-detail', e => (e as HTMLElement).dataset.txid)).toBe(invoked)
    const blockLink = await page.$eval('#explorer-result .tx-detail a[href^="#blocks/block/"]', a => a.textContent)
    const n = Number(blockLink!.slice(1))
    expect(await page.evaluate(async ([id, b]) => (await window.weft.blocks(10)).find(x => x.number === b)?.txs.some(t => t.txid === id), [invoked, n] as const)).toBe(true)
    expect(tx.text).toContain('invoke a b 10')

    // Following the block link shows that block, open.
    await page.click('#explorer-result .tx-detail a[href^="#blocks/block/"]')
    await page.waitForSelector(`#explorer-result[data-kind=block] details[data-block="${n}"][open]`)
    expect(await page.inputValue('#view-blocks input.search')).toBe(String(n))

    const byNumber = await search('#5')
    expect(byNumber.kind).toBe('block')
    expect(await page.getAttribute('#explorer-result details.block', 'data-block')).toBe('5')

    const cc = await search(chaincode.slice(0, 12))
    expect(cc.kind).toBe('chaincode')
    const txids = await page.$$eval('#explorer-result tr[data-txid]', trs => trs.map(t => [(t as HTMLElement).dataset.txid, t.children[2].textContent]))
    expect(txids).toEqual([[invoked, 'invoke'], [chaincode, 'deploy']])

    const refused = await search(rejected)
    expect(refused.kind).toBe('tx')
    expect(refused.text).toContain('rejected')
    expect(refused.text).toMatch(/Incorrect number of arguments/)

    // Nothing: said so for the newest 2,000 blocks, then for the rest when asked.
    const none = await search('no-such-thing-anywhere')
    expect(none.kind).toBe('none')
    expect(none.text).toMatch(/^Not found/)
    expect(none.text).toContain(`no transaction has this id, and no chaincode name starts so in blocks #${height - 2000} to #${height - 1}.`)
    await page.click('#explorer-result button:text-is("Search older blocks")')
    await page.waitForSelector(`#explorer-result .not-found:has-text("in blocks #0 to #${height - 2001}.")`)
    expect(await page.locator('#explorer-result button').count()).toBe(0)
    const far = await search('99999')
    expect(far.kind).toBe('none')
    expect(far.text).toContain(`No block #99999: this peer's chain has ${height} blocks`)
  }, 60_000)

  it('Copy buttons: copied to the clipboard; when the clipboard refuses, the value is shown selected', async () => {
    await search(invoked)
    const button = '#explorer-result .tx-detail .hash-line button.copy'
    await page.click(button)
    await page.waitForSelector(`${button}[data-copy=copied]`)
    expect(await page.textContent(button)).toBe('copied')
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(invoked)

    await page.evaluate(() => {
      Object.defineProperty(navigator.clipboard, 'writeText', { configurable: true, value: async () => { throw new DOMException('refused', 'NotAllowedError') } })
      document.execCommand = () => false
    })
    // The whole name of a chaincode (its deploy's txid too) lists its transactions.
    expect((await search(chaincode)).kind).toBe('chaincode')
    await page.click('#explorer-result tr[data-txid] button.copy')
    await page.waitForSelector('#explorer-result tr[data-txid] button.copy[data-copy=manual]')
    const shown = await page.$eval('#explorer-result tr[data-txid] input.copy-manual', i => ({ value: (i as HTMLInputElement).value, selected: (i as HTMLInputElement).selectionEnd! - (i as HTMLInputElement).selectionStart! }))
    expect(shown).toEqual({ value: invoked, selected: invoked.length })
  })

  it('Events view: the block and rejection events of what was done', async () => {
    await showView(page, 'events')
    const lines = (await waitInPage(page, 'the rejection in the stream', id => {
      const li = [...document.querySelectorAll('#view-events ul.events li')].map(l => l.textContent ?? '')
      return li.some(t => t.includes('REJECTION') && t.includes(id.slice(0, 16))) ? li : undefined
    }, 10_000, rejected))!
    expect(lines.filter(l => /BLOCK #\d+/.test(l)).length).toBeGreaterThanOrEqual(3)
    expect(lines.find(l => l.includes('REJECTION'))).toMatch(/Incorrect number of arguments/)
    // Its txid opens the explorer's page of it.
    await page.click(`#view-events li:has-text("REJECTION") a[href="#blocks/tx/${rejected}"]`)
    await page.waitForSelector(`#explorer-result[data-kind=tx] .tx-detail[data-txid="${rejected}"]`)
  })

  it('Logs view: module levels set there are kept and decide which lines the peer makes', async () => {
    await showView(page, 'logs')
    const made = (): Promise<Array<{ level: string, module: string, text: string }>> => page.$$eval('#view-logs .log div', ds =>
      ds.map(d => ({ level: d.className, module: (d as HTMLElement).dataset.module!, text: d.textContent ?? '' })))
    // The default (info): the start line, no debug.
    const before = await made()
    expect(before.some(l => l.level === 'info' && l.module === 'peer-node' && /Started peer/.test(l.text))).toBe(true)
    expect(before.filter(l => l.level === 'debug')).toEqual([])

    await page.fill('#view-logs input.log-spec', 'warning:peer=debug')
    await page.click('#view-logs button:text-is("Apply")')
    expect(await page.textContent('#view-logs .spec-result')).toBe('Applied: warn for all, peer debug.')
    expect(await page.evaluate(() => localStorage.getItem('weft.logging'))).toBe('warning:peer=debug')

    // The next start of the peer: the chat with vp0 at debug (module peer), and no info line elsewhere.
    await page.reload()
    await page.waitForFunction(() => window.weft !== undefined)
    await page.evaluate(async () => { await window.weft.ready })
    await showView(page, 'logs')
    expect(await page.inputValue('#view-logs input.log-spec')).toBe('warning:peer=debug')
    await waitInPage(page, 'the chat with vp0 at debug', () => [...document.querySelectorAll('#view-logs .log div.debug')].some(d => /Established Chat/.test(d.textContent ?? '')), 10_000)
    const after = await made()
    expect(after.filter(l => l.level === 'debug' || l.level === 'info').map(l => l.module).filter(m => m !== 'peer')).toEqual([])

    await page.fill('#view-logs input.log-spec', 'info:nosuchlevel')
    await page.click('#view-logs button:text-is("Apply")')
    expect(await page.textContent('#view-logs .spec-result')).toBe('Applied: info for all. logging level "nosuchlevel" not recognized, using info')
    await page.fill('#view-logs input.log-spec', 'info')
    await page.click('#view-logs button:text-is("Apply")')
  }, 60_000)

  it('400 px wide: no view scrolls sideways', async () => {
    await page.setViewportSize({ width: 400, height: 800 })
    const widths: Record<string, number> = {}
    for (const view of ['peer', 'blocks', `blocks/search/${invoked}`, `blocks/search/${chaincode.slice(0, 10)}`, 'blocks/search/7', 'chaincode', 'events', 'logs', 'demo']) {
      await page.evaluate(v => { location.hash = v }, view)
      await page.waitForSelector(`#view-${view.split('/')[0]}.active`)
      if (view.startsWith('blocks/')) await page.waitForSelector('#explorer-result[data-kind]')
      if (view === 'blocks') await page.click('#view-blocks .block-list details.block > summary')
      widths[view] = await page.evaluate(() => document.documentElement.scrollWidth)
    }
    expect(Object.entries(widths).filter(([, w]) => w > 400)).toEqual([])
    expect(browser.problems.filter(p => p.kind !== 'console.error')).toEqual([])
  }, 60_000)
})
