// Node side of the web app tests: the production build (built when stale), a Node peer
// started in-process with serve() on free ports (its web server serves that build and
// /weft/bootstrap.json), and helpers that drive a tab through window.weft.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { loadConfig } from '../../src/config/index.ts'
import { Ledger, makeGenesis } from '../../src/ledger/ledger.ts'
import { setLogLevel } from '../../src/util/logger.ts'
import { serve, type RunningPeer } from '../../node/peer/serve.ts'
import { openLevelDB } from '../../node/storage.ts'
import { ensureWebBuild, REPO_ROOT } from '../../node/web/build.ts'
import { startWebServer, type WebServer } from '../../node/web/static-server.ts'
import type { WeftApi } from '../../web/app/weft-api.ts'
import { commitBlocks } from '../integration/peer-helpers.ts'
import { waitFor } from '../helpers/wait.ts'
import { startBrowser, type WeftBrowser } from './harness.ts'

declare global {
  interface Window { weft: WeftApi }
}

let built: Promise<string | undefined> | undefined

/** Builds dist/web once per test run when it is missing or older than its sources. */
export function webBuild (): Promise<string | undefined> {
  built ??= ensureWebBuild({ onOutput: line => { if (/first load|Weft web app|error/i.test(line)) console.log(`[vite] ${line}`) } })
  return built
}

export interface TestPeer {
  running: RunningPeer
  dataDir: string
  url: string
  stop (): Promise<void>
}

export interface TestPeerOptions {
  /** Blocks committed to the peer's LevelDB before it starts (one transaction each). */
  preload?: number
  /** Extra CORE_* settings. */
  env?: Record<string, string>
}

/** A Node peer (noops validator vp0) on free 127.0.0.1 ports, serving the web app. */
export async function startTestPeer (opts: TestPeerOptions = {}): Promise<TestPeer> {
  await webBuild()
  const dataDir = await mkdtemp(join(tmpdir(), 'weft-app-'))
  const env: Record<string, string> = {
    CORE_PEER_ID: 'vp0',
    CORE_PEER_NETWORKID: 'apptest',
    CORE_PEER_FILESYSTEMPATH: dataDir,
    CORE_PEER_ADDRESS: '127.0.0.1:0',
    CORE_PEER_LISTENADDRESS: '127.0.0.1:0',
    CORE_PEER_VALIDATOR_EVENTS_ADDRESS: '127.0.0.1:0',
    CORE_PEER_LIBP2P_ADDRESS: '127.0.0.1:0',
    CORE_REST_ENABLED: 'false',
    CORE_WEB_ENABLED: 'true',
    CORE_WEB_ADDRESS: '127.0.0.1:0',
    CORE_NOOPS_BLOCK_WAIT: '100ms',
    ...opts.env
  }
  const config = loadConfig({ env })
  if ((opts.preload ?? 0) > 0) {
    const ds = config.ledger.state.dataStructure
    const ledger = await Ledger.open(await openLevelDB(join(dataDir, 'db')), { numBuckets: ds.configs.numBuckets, maxGroupingAtEachLevel: ds.configs.maxGroupingAtEachLevel })
    await makeGenesis(ledger)
    await commitBlocks(ledger, opts.preload!, { keys: 200 })
    await ledger.close()
  }
  setLogLevel('warn')
  const running = await serve(config)
  await running.webReady
  return {
    running,
    dataDir,
    url: running.webUrl!,
    async stop () {
      await running.stop()
      await rm(dataDir, { recursive: true, force: true })
    }
  }
}

/** Opens the app at `url` and waits for window.weft.ready. */
export async function openApp (page: Page, url: string): Promise<void> {
  await page.goto(url)
  await page.waitForFunction(() => window.weft !== undefined)
  await page.evaluate(async () => { await window.weft.ready })
}

/** Polls `fn` in the page (called with `arg`) until it returns a truthy value. */
export async function waitInPage<T, A = undefined> (page: Page, what: string, fn: (arg: A) => T | Promise<T>, timeoutMs = 30_000, arg?: A): Promise<T> {
  return await waitFor(`${what} in ${page.url()}`, async () => await page.evaluate(fn as (arg: unknown) => T | Promise<T>, arg), { timeoutMs, everyMs: 100 })
}

/** Shows one view of the app (#peer, #blocks, #chaincode, #events, #demo). */
export async function showView (page: Page, view: string): Promise<void> {
  await page.evaluate(v => { location.hash = v }, view)
  await page.waitForSelector(`#view-${view}.active`)
}

export interface DemoPage {
  web: WebServer
  browser: WeftBrowser
  page: Page
  /** Stops the demo network, then Chromium and the server. */
  close (): Promise<void>
}

/** The app's build served with no peer behind it, opened offline at #demo in a fresh Chromium (or a tab of `shared`, left open by close()). */
export async function openDemoPage (name: string, shared?: WeftBrowser): Promise<DemoPage> {
  await webBuild()
  const [web, browser] = await Promise.all([
    startWebServer({ address: '127.0.0.1:0', root: join(REPO_ROOT, 'dist/web'), bootstrap: () => { throw new Error('no peer behind this server') } }),
    shared ?? startBrowser({ verbose: false })
  ])
  const page = await browser.newPage(name)
  await openApp(page, `${web.url}?offline#demo`)
  return {
    web,
    browser,
    page,
    async close () {
      await page.evaluate(async () => { await (await window.weft.demo()).stop() }).catch(() => {})
      if (shared === undefined) await browser.close()
      else await page.close()
      await web.close()
    }
  }
}
