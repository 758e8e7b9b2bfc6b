// The workloads bench/browser.ts runs in headless Chromium (inside test/netns.sh's namespace),
// all in one browser, each on an origin of its own. Each is opened once (its server or peer and
// tab kept for all its runs) and then run again and again; a run gives one or more
// measurements, each a row of the table.
import { toHex } from '../../src/crypto/bytes.ts'
import type { Figures } from './ledger-blocks.ts'
import { fmt } from './weft-peer.ts'
import { openApp, openDemoPage, startTestPeer, waitInPage } from '../../test/browser/app-harness.ts'
import { callInPage, openEntry, serveEntry, type WeftBrowser } from '../../test/browser/harness.ts'

export interface Measure {
  row: string
  value: number
  unit: string
  /** A secondary figure, its median shown beside the row's (e.g. p50 latency). */
  extra?: { label: string, value: number }
  /** Printed with the run's line only. */
  note: string
  /** False when the run went wrong (a wrong hash, nothing committed). */
  ok: boolean
}

export interface BrowserWorkload {
  name: string
  /** One run; `warmup` runs may be shorter. */
  run (index: number, warmup: boolean): Promise<Measure[]>
  close (): Promise<void>
}

/** The bench's 500-tx block commits (bench/tools/ledger-blocks.ts) on IndexedDB, a fresh database each run. */
export async function ledgerCommits (browser: WeftBrowser, keys: number, blocks: number): Promise<BrowserWorkload> {
  const server = await serveEntry('test/browser/entries/ledger.ts')
  const page = await browser.newPage('ledger')
  await openEntry(page, server.url)
  return {
    name: 'ledger',
    async run (index) {
      // benchCommits: `keys` populated, 2 untimed blocks, then `blocks` timed ones (per workload); the database is deleted after.
      const r = await callInPage<Record<string, { commit: Figures, commitMs: Figures }>>(page, 'benchCommits', `weft-bench-${index}`, keys, blocks)
      return Object.entries(r).map(([w, f]) => ({
        row: `ledger commit, 500-tx blocks over ${keys} keys, ${w}`,
        value: f.commit.median,
        unit: 'tx/s',
        note: `median of ${blocks} block(s) (${f.commit.min.toFixed(0)}–${f.commit.max.toFixed(0)}), ${f.commitMs.median.toFixed(1)} ms a block`,
        ok: f.commit.median > 0
      }))
    },
    async close () { await page.close(); await server.close() }
  }
}

/** A tab syncing `blocks` blocks from a Node peer over WebSockets into IndexedDB; the origin's storage cleared before each run. */
export async function tabSync (browser: WeftBrowser, blocks: number): Promise<BrowserWorkload> {
  const t0 = performance.now()
  const peer = await startTestPeer({ preload: blocks, env: { CORE_PEER_NETWORKID: 'bench' } })
  console.log(`  (${blocks} blocks preloaded into the Node peer's LevelDB in ${((performance.now() - t0) / 1000).toFixed(1)} s)`)
  const head = await peer.running.node.head()
  return {
    name: 'sync',
    async run (index) {
      const page = await browser.newPage(`sync${index}`)
      try {
        // A new tab with nothing stored: no chain, no identity, so each run syncs everything.
        const cdp = await browser.context.newCDPSession(page)
        await cdp.send('Storage.clearDataForOrigin', { origin: new URL(peer.url).origin, storageTypes: 'all' })
        await cdp.detach()
        await openApp(page, peer.url)
        const started = performance.now()
        // The state (a snapshot, or deltas for a short chain) is asked for once the whole chain is fetched and checked.
        await waitInPage(page, 'every block fetched', () => {
          const { received } = window.weft.stats()
          return (received.SYNC_STATE_SNAPSHOT ?? 0) + (received.SYNC_STATE_DELTAS ?? 0) > 0
        }, 150_000)
        const fetched = performance.now()
        await waitInPage(page, 'the whole chain', n => window.weft.height === n && window.weft.stateHash !== '', 150_000, blocks + 1)
        await page.evaluate(async () => { await window.weft.flush() })
        const secs = (performance.now() - started) / 1000
        const tab = await page.evaluate(() => ({ stateHash: window.weft.stateHash, currentBlockHash: window.weft.currentBlockHash }))
        const ok = tab.stateHash === toHex(head.stateHash) && tab.currentBlockHash === toHex(head.currentBlockHash)
        return [{
          row: `tab sync of ${blocks} blocks over WebSockets into IndexedDB`,
          value: blocks / secs,
          unit: 'blocks/s',
          note: `${secs.toFixed(1)} s (fetching ${((fetched - started) / 1000).toFixed(1)} s, state and storing ${((performance.now() - fetched) / 1000).toFixed(1)} s), hash ${ok ? 'ok' : 'WRONG'}`,
          ok
        }]
      } finally {
        await page.close()
      }
    },
    async close () { await peer.stop() }
  }
}

export interface DemoCase { n: number, storage: 'memory' | 'indexeddb' }

/** The in-tab demo network flat out (its own 2 s warm-up, then `seconds`, or `warmupSeconds` in a warm-up run), one case after another in one tab; each start begins on empty storage. */
export async function demoNetwork (browser: WeftBrowser, cases: DemoCase[], seconds: number, warmupSeconds: number): Promise<BrowserWorkload> {
  const demo = await openDemoPage('demo-bench', browser)
  const { page } = demo
  return {
    name: 'demo',
    async run (_index, warmup) {
      const out: Measure[] = []
      for (const { n, storage } of cases) {
        const r = await page.evaluate(async ({ n, storage, seconds }) => {
          const d = await window.weft.demo()
          await d.stop()
          await d.start({ n, storage })
          const r = await d.bench(seconds)
          const s = d.status()
          await d.stop()
          return { ...r, heights: s.replicas.map(x => x.height), verdict: s.storageMeter.verdict }
        }, { n, storage, seconds: warmup ? warmupSeconds : seconds })
        out.push({
          row: `in-tab demo network, ${n} validators on ${storage}`,
          value: r.txps,
          unit: 'committed tx/s',
          extra: { label: 'p50 ms', value: r.p50 ?? NaN },
          note: `${r.committed} in ${r.seconds.toFixed(1)} s, p50 ${fmt(r.p50 ?? NaN)} ms, p95 ${fmt(r.p95 ?? NaN)} ms, heights ${r.heights.join(' ')}${storage === 'memory' ? '' : `; ${r.verdict}`}`,
          ok: r.committed > 0
        })
      }
      return out
    },
    async close () { await demo.close() }
  }
}
