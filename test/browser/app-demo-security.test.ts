// The demo view's security toggle: a CA runs in the tab, the validators enroll with it and PBFT
// runs on their enrollment keys, and the load is signed by the demo user, on IndexedDB as the
// demo keeps its chains.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { openDemoPage, showView, waitInPage, type DemoPage } from './app-harness.ts'

describe('web app: the demo network with security', () => {
  let demo: DemoPage
  let page: Page

  beforeAll(async () => {
    demo = await openDemoPage('demo-security')
    page = demo.page
    await showView(page, 'demo')
  }, 120_000)
  afterAll(async () => { await demo?.close() })

  it('starts with a CA in the tab and commits signed transactions on every replica', async () => {
    await page.locator('#view-demo select').selectOption('indexeddb')
    await page.check('#demo-security')
    await page.getByRole('button', { name: 'Start demo network', exact: true }).click()
    await waitInPage(page, 'four replicas up', async () => (await window.weft.demo()).status().replicas.filter(r => r.up && r.height >= 2).length === 4, 90_000)
    expect(await page.evaluate(async () => (await window.weft.demo()).status())).toMatchObject({ running: true, n: 4, security: true })
    expect(await page.isDisabled('#demo-security')).toBe(true)
    const committed = await page.evaluate(async () => {
      const d = await window.weft.demo()
      const txids = await d.submit(10)
      await d.waitCommitted(txids, 60_000)
      return txids.length
    })
    expect(committed).toBe(10)
    // Every replica took part: none fell behind on a refused (unsigned or badly signed) message.
    const heights = await page.evaluate(async () => (await window.weft.demo()).status().replicas.map(r => r.height))
    expect(new Set(heights).size).toBe(1)
  }, 180_000)
})
