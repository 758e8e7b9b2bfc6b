// The in-tab demo network: four PBFT validators inside one Chromium tab. 100 transactions,
// the primary crashes, a view change follows and all 100 commit; the old primary restarts and
// catches up; a byzantine primary (forged digests) is voted out too. (Its throughput is
// bench/browser.ts's.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { openApp, openDemoPage, showView, waitInPage, type DemoPage } from './app-harness.ts'
import { screenshot, type WeftBrowser } from './harness.ts'

describe('web app: the in-tab demo network', () => {
  let demo: DemoPage
  let browser: WeftBrowser
  let page: Page

  beforeAll(async () => {
    demo = await openDemoPage('demo')
    ;({ browser, page } = demo)
  }, 120_000)
  afterAll(async () => { await demo?.close() })

  it('leaves the tab\'s own peer, offline, a non-validator without a genesis block of its own making', async () => {
    expect(await page.evaluate(() => ({ role: window.weft.role, height: window.weft.height, head: window.weft.currentBlockHash }))).toEqual({ role: 'non-validator', height: 0, head: '' })
  })

  it('survives a crashed primary: view change, all 100 committed, and the primary catches up when it returns', async () => {
    await page.evaluate(async () => { await (await window.weft.demo()).start({ n: 4 }) })
    const st0 = await page.evaluate(async () => (await window.weft.demo()).status())
    expect(st0.replicas.map(r => r.up)).toEqual([true, true, true, true])
    expect(st0.primary).toBe(0)

    // 100 transactions through the backups, then the primary dies before ordering them all.
    const txids = await page.evaluate(async () => {
      const d = await window.weft.demo()
      const ids = [...await d.submit(34, 1), ...await d.submit(33, 2), ...await d.submit(33, 3)]
      await d.crash(0)
      return ids
    })
    expect(new Set(txids).size).toBe(100)
    await waitInPage(page, 'a view change', async () => (await window.weft.demo()).status().view >= 1, 30_000)
    await screenshot(page, 'app-demo-view-change')
    await page.evaluate(async ids => { await (await window.weft.demo()).waitCommitted(ids, 30_000) }, txids)
    const st1 = await page.evaluate(async () => (await window.weft.demo()).status())
    expect(st1.primary).toBe(1)
    expect(st1.replicas[0].up).toBe(false)
    const heights = st1.replicas.filter(r => r.up).map(r => r.height)
    expect(new Set(heights).size).toBe(1)

    // The old primary returns and recovers (checkpoints under load tell it how far behind it is).
    await page.evaluate(async () => {
      const d = await window.weft.demo()
      await d.restart(0)
      d.load(150)
    })
    await waitInPage(page, 'vp0 to catch up', async () => {
      const s = (await window.weft.demo()).status()
      return s.replicas[0].up && s.replicas[0].view === s.view && s.replicas[0].height >= s.replicas[1].height - 1 && s.replicas[0].height > 12
    }, 45_000)
    await screenshot(page, 'app-demo-recovered')
  }, 120_000)

  it('votes out a byzantine primary that forges digests', async () => {
    const before = await page.evaluate(async () => {
      const d = await window.weft.demo()
      const s = d.status()
      d.byzantine(s.primary!, true)
      return { view: s.view, committed: s.load.committed }
    })
    await waitInPage(page, 'a view change away from the liar', async b => (await window.weft.demo()).status().view > b.view, 30_000, before)
    await waitInPage(page, 'commits to go on', async b => (await window.weft.demo()).status().load.committed > b.committed + 300, 30_000, before)
    const s = await page.evaluate(async () => (await window.weft.demo()).status())
    expect(s.forged).toBeGreaterThan(0)
    await showView(page, 'demo')
    await screenshot(page, 'app-demo-byzantine')
    await page.evaluate(async () => {
      const d = await window.weft.demo()
      d.load(null)
      for (const r of d.status().replicas) if (r.byzantine) d.byzantine(r.index, false)
    })
  }, 90_000)

  it('says the network has stalled while quorum is lost, and shows no primary meanwhile', async () => {
    await page.evaluate(async () => {
      const d = await window.weft.demo()
      await d.crash(2)
      await d.crash(3)
    })
    const s = await page.evaluate(async () => (await window.weft.demo()).status())
    expect(s.quorum).toEqual({ live: 2, needed: 3, stalled: true })
    // Two of four cannot make a view active: no replica is shown as the primary.
    expect(s.primary).toBeUndefined()
    await showView(page, 'demo')
    const text = await page.waitForSelector('.stall .notice.error').then(async e => await e.textContent())
    expect(text).toMatch(/stalled: waiting for quorum\. 2 of 4 replicas are reachable and PBFT needs 3/)
    await screenshot(page, 'app-demo-stalled')
    await page.evaluate(async () => {
      const d = await window.weft.demo()
      for (const r of d.status().replicas) if (!r.up) await d.restart(r.index)
    })
    await waitInPage(page, 'quorum back', async () => !(await window.weft.demo()).status().quorum.stalled, 30_000)
    expect(await page.locator('.stall .notice').count()).toBe(0)
  }, 90_000)

  it('says so when the network peer is unreachable', async () => {
    const lost = await browser.newPage('lost')
    // A WebSockets address nobody listens on (the peer id is this tab's own, so it is a valid one).
    const id = await page.evaluate(() => window.weft.peerId)
    await openApp(lost, `${demo.web.url}?bootstrap=/ip4/127.0.0.1/tcp/59999/ws/p2p/${id}`)
    const text = await waitInPage(lost, 'the unreachable notice', () => window.weft.notices.find(n => n.level === 'error' && /Peer unreachable/.test(n.text))?.text, 20_000)
    expect(text).toMatch(/127\.0\.0\.1\/tcp\/59999/)
    await lost.waitForSelector('.notice.error')
    await screenshot(lost, 'app-unreachable')
    await lost.close()
  }, 40_000)
})
