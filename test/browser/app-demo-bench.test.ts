// Benchmark (printed, not judged): committed tx/s of the in-tab demo network at 4 and 7
// validators, on memory and on IndexedDB, flat out for a few seconds each.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { openDemoPage, type DemoPage } from './app-harness.ts'
import type { WeftBrowser } from './harness.ts'

const SECONDS = Number(process.env.WEFT_BENCH_DEMO_SECONDS ?? 8)
const CASES = (process.env.WEFT_BENCH_DEMO ?? '4:memory,4:indexeddb,7:memory,7:indexeddb').split(',').map(c => {
  const [n, storage] = c.split(':')
  return { n: Number(n), storage: storage as 'memory' | 'indexeddb' }
})

describe('benchmark: the in-tab demo network', () => {
  let demo: DemoPage
  let browser: WeftBrowser
  let page: Page

  beforeAll(async () => {
    demo = await openDemoPage('demo-bench')
    ;({ browser, page } = demo)
  }, 120_000)
  afterAll(async () => { await demo?.close() })

  for (const { n, storage } of CASES) {
    it(`benchmark: committed tx/s of ${n} in-tab validators on ${storage} (printed)`, async () => {
      const r = await page.evaluate(async ({ n, storage, seconds }) => {
        const d = await window.weft.demo()
        await d.stop()
        await d.start({ n, storage })
        // The storage meter's readings during the run, one a second.
        const readings: Array<{ ops: number, bytes: number }> = []
        const timer = setInterval(() => { const m = d.status().storageMeter; readings.push({ ops: m.opsPerSecond, bytes: m.bytesPerSecond }) }, 1000)
        const r = await d.bench(seconds)
        clearInterval(timer)
        const s = d.status()
        await d.stop()
        const mean = (f: (x: typeof readings[number]) => number): number => readings.reduce((a, x) => a + f(x), 0) / Math.max(1, readings.length)
        return { ...r, heights: s.replicas.map(x => x.height), storage: s.storageMeter.verdict, written: { ops: mean(x => x.ops), bytes: mean(x => x.bytes) } }
      }, { n, storage, seconds: SECONDS })
      console.log(`BENCH in-tab PBFT, ${n} validators on ${storage}, headless Chromium: ${r.txps.toFixed(0)} committed tx/s (${r.committed} in ${r.seconds.toFixed(1)} s; p50 latency ${r.p50?.toFixed(0)} ms, p95 ${r.p95?.toFixed(0)} ms; heights ${r.heights.join(' ')})${storage === 'memory' ? '' : `; IndexedDB took ${r.written.ops.toFixed(0)} keys/s, ${(r.written.bytes / 1e6).toFixed(1)} MB/s for all replicas; ${r.storage}`}`)
      expect(r.committed).toBeGreaterThan(0)
      expect(browser.problems.filter(p => p.kind !== 'console.error')).toEqual([])
    }, 120_000)
  }
})
