// Every control of the demo view, driven by clicks the way a user would (no screenshots
// compared): start on IndexedDB, load on and off, crash and restart, partition and heal,
// byzantine and honest, stop; the storage meter shows its figures and the throughput chart
// its axes, units and time scale.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import type { DemoStatus } from '../../web/demo/controller.ts'
import { openDemoPage, showView, waitInPage, type DemoPage } from './app-harness.ts'
import type { WeftBrowser } from './harness.ts'

describe('web app: the demo view\'s controls', () => {
  let demo: DemoPage
  let browser: WeftBrowser
  let page: Page

  const status = async (): Promise<DemoStatus> => await page.evaluate(async () => (await window.weft.demo()).status())
  const card = (i: number): string => `#view-demo .replica[data-replica="${i}"]`
  const click = async (selector: string, name: string): Promise<void> => {
    await page.locator(selector).getByRole('button', { name, exact: true }).click()
  }

  beforeAll(async () => {
    demo = await openDemoPage('demo-controls')
    ;({ browser, page } = demo)
    await page.setViewportSize({ width: 1280, height: 900 })
    await showView(page, 'demo')
  }, 120_000)
  afterAll(async () => { await demo?.close() })

  it('starts the number of validators asked for, on the storage chosen', async () => {
    await page.locator('#view-demo input[type=number]').first().fill('4')
    await page.locator('#view-demo select').selectOption('indexeddb')
    await click('#view-demo', 'Start demo network')
    await waitInPage(page, 'four replicas up', async () => (await window.weft.demo()).status().replicas.filter(r => r.up && r.height >= 2).length === 4, 60_000)
    const s = await status()
    expect(s).toMatchObject({ running: true, n: 4, storage: 'indexeddb' })
    await page.waitForSelector(card(3))
    expect(await page.locator('#view-demo .replica').count()).toBe(4)
    // Start is spent while the network runs; the settings are fixed until it stops.
    expect(await page.getByRole('button', { name: 'Start demo network' }).isDisabled()).toBe(true)
    expect(await page.locator('#view-demo select').isDisabled()).toBe(true)
  }, 90_000)

  it('starts and stops the load generator at the rate typed', async () => {
    await page.locator('#view-demo input[type=number]').nth(1).fill('300')
    await click('#view-demo', 'Start load')
    expect((await status()).load).toMatchObject({ active: true, rate: 300 })
    await waitInPage(page, 'commits under load', async () => (await window.weft.demo()).status().load.committed >= 300, 60_000)
    await page.getByRole('button', { name: 'Stop load' }).waitFor()
  }, 90_000)

  it('shows the storage meter\'s figures and a verdict on IndexedDB', async () => {
    await waitInPage(page, 'IndexedDB writes in the meter', async () => (await window.weft.demo()).status().storageMeter.bytesPerSecond > 0, 30_000)
    const m = (await status()).storageMeter
    expect(m.storage).toBe('indexeddb')
    expect(m.flushesPerSecond).toBeGreaterThan(0)
    const figure = async (key: string): Promise<string> => await page.locator(`.storage-meter [data-figure="${key}"] .stat`).textContent() ?? ''
    await page.waitForFunction(() => document.querySelector('.storage-meter [data-figure="flushes"] .stat')?.textContent !== '0.0/s')
    expect(await figure('storage')).toBe('IndexedDB')
    expect(await figure('written')).toMatch(/^\d+(\.\d)? (B|kB|MB)\/s$/)
    expect(await figure('keys')).toMatch(/^[\d,]+\/s$/)
    expect(await figure('busy')).toMatch(/^\d+%$/)
    expect(await figure('queued')).toMatch(/^\d+ batch(es)? · \d+(\.\d)? (B|kB|MB)$/)
    expect(await page.locator('.storage-meter .verdict').textContent()).toMatch(/^storage (is the bottleneck: IndexedDB flushes take \d+% of the time|keeps up: IndexedDB flushes take \d+% of the time)/)
  }, 60_000)

  it('draws the throughput chart with axes, units and a time scale', async () => {
    await page.waitForFunction(() => document.querySelectorAll('svg.throughput .bars rect').length >= 3)
    const axis = async (cls: string): Promise<string[]> => await page.locator(`svg.throughput .${cls} text`).allTextContents()
    const y = await axis('y-axis')
    expect(y).toContain('committed tx/s')
    const yTicks = y.filter(t => /^\d+$/.test(t)).map(Number)
    expect(yTicks[0]).toBe(0)
    expect(yTicks.length).toBeGreaterThanOrEqual(3)
    expect(yTicks).toEqual([...yTicks].sort((a, b) => a - b))
    expect(await axis('y2-axis')).toContain('p50 latency (ms)')
    const x = await axis('x-axis')
    expect(x).toEqual(expect.arrayContaining(['−90 s', '−60 s', '−30 s', 'now']))
    expect(x.find(t => t.startsWith('seconds ago'))).toMatch(/^seconds ago \(now = \d\d:\d\d:\d\d/)
  }, 30_000)

  it('crashes a replica and restarts it', async () => {
    await click(card(3), 'Crash')
    await page.locator(`${card(3)} .badge.down`).waitFor()
    expect((await status()).replicas[3].up).toBe(false)
    await click(card(3), 'Restart')
    await page.locator(`${card(3)} .badge.up`).waitFor()
    expect((await status()).replicas[3].up).toBe(true)
  }, 60_000)

  it('partitions a replica from the others and heals it', async () => {
    await click(card(2), 'Partition')
    await page.locator(`${card(2)} .badge.relayed`).waitFor()
    expect((await status()).replicas[2].partitioned).toBe(true)
    expect((await status()).quorum.live).toBe(3)
    await click(card(2), 'Heal')
    await page.locator(`${card(2)} .badge.relayed`).waitFor({ state: 'detached' })
    expect((await status()).replicas[2].partitioned).toBe(false)
  }, 60_000)

  it('makes a replica byzantine and honest again', async () => {
    await click(card(1), 'Byzantine')
    await page.locator(`${card(1)} .badge.byz`).waitFor()
    expect((await status()).replicas[1].byzantine).toBe(true)
    await waitInPage(page, 'forged messages', async () => (await window.weft.demo()).status().forged > 0, 30_000)
    await click(card(1), 'Honest')
    await page.locator(`${card(1)} .badge.byz`).waitFor({ state: 'detached' })
    expect((await status()).replicas[1].byzantine).toBe(false)
  }, 60_000)

  it('stops the load, then the network', async () => {
    await click('#view-demo', 'Stop load')
    expect((await status()).load.active).toBe(false)
    await page.getByRole('button', { name: 'Start load' }).waitFor()
    await click('#view-demo', 'Stop')
    await waitInPage(page, 'the network stopped', async () => !(await window.weft.demo()).status().running, 30_000)
    await page.locator('#view-demo .replica').first().waitFor({ state: 'detached' })
    expect(await page.getByRole('button', { name: 'Start demo network' }).isEnabled()).toBe(true)
    expect(await page.locator('.storage-meter').textContent()).toMatch(/start the demo network/)
    expect(browser.problems.filter(p => p.kind !== 'console.error')).toEqual([])
  }, 60_000)
})
