// Node-side harness for tests that drive a real Chromium tab (vitest.browser.config.ts).
//
//   const browser = await startBrowser()                 // Chromium, fresh profile, inside the netns
//   const server = await serveEntry('test/browser/entries/crypto.ts')
//   const page = await browser.newPage('A')              // console + errors forwarded as "[A] ..."
//   await openEntry(page, server.url)                    // waits for exposeTestApi() in the entry
//   const r = await callInPage(page, 'hash', bytes)      // runs the entry's `hash(bytes)` in the tab
//   await reloadPage(page)                               // same origin + profile: IndexedDB survives
//   await screenshot(page, 'crypto')                     // test-results/crypto.png
//   await server.close(); await browser.close()
//
// The entry module runs in the tab, imports from src/ like any module and
// publishes its functions with exposeTestApi() from ./page-api.ts.
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AddressInfo } from 'node:net'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { createServer, type Plugin } from 'vite'
import type { CallOutcome } from './page-api.ts'
import { fromWire, toWire, type Wire } from './wire.ts'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const CHROMIUM_PATH = process.env.WEFT_CHROMIUM ?? '/usr/bin/chromium'

/** The flags every Weft browser test runs Chromium with (see PLATFORM.md §5). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-features=WebRtcHideLocalIpsWithMdns', '--allow-loopback-in-peer-connection'
]

// ---------------------------------------------------------------- Chromium

export interface PageProblem { page: string, kind: 'pageerror' | 'crash' | 'console.error' | 'http' | 'requestfailed', text: string }

export interface WeftBrowser {
  context: BrowserContext
  /** Profile directory; removed by close() unless it was passed in. */
  userDataDir: string
  /** Opens a tab whose console, errors and failed requests are logged as `[name] ...`. */
  newPage (name?: string): Promise<Page>
  /** Everything that went wrong in any page so far (tests may assert it is empty). */
  problems: PageProblem[]
  close (): Promise<void>
}

export interface StartBrowserOptions {
  /** Reuse a profile directory (kept on close). Default: a fresh temp dir, deleted on close. */
  userDataDir?: string
  /** Extra Chromium flags. */
  args?: string[]
  /** Forward console.log/info/debug too (errors and warnings are always forwarded). Default true. */
  verbose?: boolean
  /** Allow running outside the private netns (test/netns.sh). Default false. */
  allowHostNetwork?: boolean
}

/** True when this process sits in the namespace test/netns.sh makes (only lo, v0, v1). */
export function inPrivateNetns (): boolean {
  try {
    const names = readFileSync('/proc/self/net/dev', 'utf8').split('\n').slice(2)
      .map(l => l.split(':')[0].trim()).filter(Boolean).sort()
    return names.join(' ') === 'lo v0 v1'
  } catch { return false }
}

export async function startBrowser (opts: StartBrowserOptions = {}): Promise<WeftBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: apt-get update && apt-get install -y chromium`)
  }
  if (!inPrivateNetns() && opts.allowHostNetwork !== true && process.env.WEFT_ALLOW_HOST_NETWORK !== '1') {
    throw new Error('browser tests must run inside the private network namespace: ' +
      'bash test/netns.sh npx vitest run --config vitest.browser.config.ts (or npm run test:browser)')
  }
  const ownDir = opts.userDataDir === undefined
  const userDataDir = opts.userDataDir ?? await mkdtemp(join(tmpdir(), 'weft-chromium-'))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(opts.args ?? [])]
  })
  const problems: PageProblem[] = []
  const verbose = opts.verbose ?? true
  const attached = new WeakMap<Page, string>()
  let count = 0

  const attach = (page: Page, name: string): Page => {
    if (attached.has(page)) return page
    attached.set(page, name)
    const note = (kind: PageProblem['kind'], text: string): void => {
      problems.push({ page: name, kind, text })
      console.error(`[${name}] ${kind}: ${text}`)
    }
    page.on('console', msg => {
      const type = msg.type()
      const loc = msg.location()
      const where = loc.url !== '' ? ` (${loc.url.replace(/^https?:\/\/[^/]+/, '')}:${loc.lineNumber})` : ''
      if (type === 'error') note('console.error', msg.text() + where)
      else if (type === 'warning') console.warn(`[${name}] warn: ${msg.text()}`)
      else if (verbose) console.log(`[${name}] ${type}: ${msg.text()}`)
    })
    page.on('pageerror', err => note('pageerror', err.stack ?? err.message))
    page.on('crash', () => note('crash', 'page crashed'))
    page.on('requestfailed', req => {
      const failure = req.failure()?.errorText ?? 'failed'
      if (failure !== 'net::ERR_ABORTED') note('requestfailed', `${req.method()} ${req.url()}: ${failure}`)
    })
    page.on('response', res => { if (res.status() >= 400) note('http', `${res.status()} ${res.url()}`) })
    return page
  }
  // Popups (window.open) are logged too, named after their opener.
  context.on('page', page => {
    void page.opener().then(opener => {
      if (opener !== null) attach(page, `${attached.get(opener) ?? 'page'}>popup${++count}`)
    }).catch(() => {})
  })

  let closed = false
  return {
    context,
    userDataDir,
    problems,
    async newPage (name?: string) {
      // A persistent context starts with one blank tab: use it for the first page.
      const blank = context.pages().find(p => !attached.has(p) && p.url() === 'about:blank')
      const page = blank ?? await context.newPage()
      return attach(page, name ?? `page${++count}`)
    },
    async close () {
      if (closed) return
      closed = true
      await context.close().catch(() => {})
      if (ownDir) await rm(userDataDir, { recursive: true, force: true, maxRetries: 3 })
    }
  }
}

// ---------------------------------------------------------------- vite

export interface ServedEntry {
  /** Page that loads the entry module, e.g. http://127.0.0.1:41234/ */
  url: string
  /** The entry as a URL path, e.g. /test/browser/entries/crypto.ts */
  entryPath: string
  close (): Promise<void>
}

export interface ServeEntryOptions {
  /** Fixed port (IndexedDB is per origin, so a restarted server must reuse it to see old data). Default: a free port. */
  port?: number
  /** Page title. */
  title?: string
}

const require = createRequire(import.meta.url)

/** /@vite/client without HMR: the exports transformed modules import, none of them connecting anywhere. */
const VITE_CLIENT_STUB = `
export function injectQuery (url, query) {
  if (url[0] !== '.' && url[0] !== '/') return url
  const pathname = url.replace(/[?#].*$/, '')
  const { search, hash } = new URL(url, 'http://vite.dev')
  return pathname + '?' + query + (search ? '&' + search.slice(1) : '') + (hash || '')
}
export function createHotContext () {
  const noop = () => {}
  return { data: {}, accept: noop, acceptExports: noop, dispose: noop, prune: noop, decline: noop, invalidate: noop, on: noop, off: noop, send: noop }
}
const sheets = new Map()
export function updateStyle (id, content) {
  let style = sheets.get(id)
  if (style === undefined) {
    style = document.createElement('style')
    style.setAttribute('type', 'text/css')
    style.setAttribute('data-vite-dev-id', id)
    document.head.appendChild(style)
    sheets.set(id, style)
  }
  style.textContent = content
}
export function removeStyle (id) {
  sheets.get(id)?.remove()
  sheets.delete(id)
}
export class ErrorOverlay {}
`

/**
 * Starts a vite dev server rooted at the repo (so /src/... and /test/... are
 * servable) on 127.0.0.1 with a page at `/` that imports `entryFile`.
 * `entryFile` is relative to the repo root or absolute.
 */
export async function serveEntry (entryFile: string, opts: ServeEntryOptions = {}): Promise<ServedEntry> {
  const abs = isAbsolute(entryFile) ? entryFile : resolve(REPO_ROOT, entryFile)
  if (!existsSync(abs)) throw new Error(`entry not found: ${abs}`)
  const rel = relative(REPO_ROOT, abs)
  if (rel.startsWith('..')) throw new Error(`entry must be inside the repo: ${abs}`)
  const entryPath = '/' + rel.split(sep).join('/')
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>${opts.title ?? 'Weft test: ' + rel}</title><link rel="icon" href="data:,">
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}h1{font-size:20px}li{font-family:monospace}</style></head>
<body><div id="weft-test">loading ${entryPath}…</div>
<script type="module">
import(${JSON.stringify(entryPath)}).catch(err => {
  window.__weftLoadError = String((err && err.stack) || err)
  console.error('failed to load entry ${entryPath}: ' + window.__weftLoadError)
})
</script></body></html>`

  const servePage: Plugin = {
    name: 'weft-test-page',
    configureServer (server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '').split('?')[0]
        if (path === '/@vite/client') {
          // Modules with a dynamic import() of a computed URL (the chaincode Web Worker's) get
          // vite's client injected for its injectQuery helper; the real client then tries its
          // HMR websocket, which these servers do not run, and logs an error. Serve a stub.
          res.setHeader('Content-Type', 'text/javascript; charset=utf-8')
          res.setHeader('Cache-Control', 'no-store')
          res.end(VITE_CLIENT_STUB)
          return
        }
        if (path !== '/' && path !== '/index.html') { next(); return }
        res.setHeader('Content-Type', 'text/html; charset=utf-8')
        res.setHeader('Cache-Control', 'no-store')
        res.end(html)
      })
    }
  }

  const server = await createServer({
    configFile: false,
    root: REPO_ROOT,
    appType: 'custom',
    logLevel: 'warn',
    clearScreen: false,
    // One pre-bundle cache per entry, so concurrent servers never rewrite each other's deps.
    cacheDir: join(REPO_ROOT, 'node_modules/.vite/weft-browser', rel.replace(/[^A-Za-z0-9._-]+/g, '_')),
    resolve: {
      // abstract-level require()s 'events' without declaring it: use the npm polyfill, not a Node builtin stub.
      alias: [{ find: /^events$/, replacement: require.resolve('events/') }]
    },
    // Crawl the entry at startup so every dependency is pre-bundled before the page asks:
    // with no HMR socket, a late "new dependencies optimized, reload" could not reach the page.
    optimizeDeps: { entries: [rel] },
    server: {
      host: '127.0.0.1',
      port: opts.port ?? 0,
      strictPort: true,
      hmr: false,
      ws: false,
      watch: null,
      fs: { allow: [REPO_ROOT] }
    },
    plugins: [servePage]
  })
  await server.listen()
  const addr = server.httpServer?.address() as AddressInfo | null
  if (addr == null || typeof addr !== 'object') { await server.close(); throw new Error('vite did not report a listening address') }
  return {
    url: `http://127.0.0.1:${addr.port}/`,
    entryPath,
    async close () { await server.close() }
  }
}

// ---------------------------------------------------------------- page calls

declare global {
  interface Window { __weftLoadError?: string }
}

/** Waits until the entry has called exposeTestApi(); throws the load error if the entry failed to import. */
export async function waitForTestApi (page: Page, timeoutMs = 30_000): Promise<string[]> {
  await page.waitForFunction(() => window.__weftTest?.ready === true || window.__weftLoadError !== undefined,
    undefined, { timeout: timeoutMs })
  const state = await page.evaluate(() => ({ names: window.__weftTest?.names, error: window.__weftLoadError }))
  if (state.names === undefined) throw new Error(`entry failed to load in ${page.url()}:\n${state.error}`)
  return state.names
}

/** Navigates to `url` (a serveEntry url) and waits for the entry's test API. */
export async function openEntry (page: Page, url: string): Promise<string[]> {
  await page.goto(url)
  return await waitForTestApi(page)
}

/** Reloads the page (same origin and profile, so IndexedDB/localStorage persist) and waits for the test API again. */
export async function reloadPage (page: Page): Promise<string[]> {
  await page.reload()
  return await waitForTestApi(page)
}

/** Calls the entry's function `name` in the tab. Args/results: JSON, Uint8Array, bigint, undefined, Map. */
export async function callInPage<T = unknown> (page: Page, name: string, ...args: unknown[]): Promise<T> {
  // (the wire args are typed `unknown` here: playwright's recursive arg types choke on Wire)
  const wireArgs: unknown = args.map(toWire)
  const outcome = await page.evaluate(async ({ n, a }): Promise<unknown> => {
    const api = window.__weftTest
    if (api === undefined) return { ok: false, error: { name: 'Error', message: 'no test API in page (did the entry call exposeTestApi?)' } }
    return await api.call(n, a as Wire[])
  }, { n: name, a: wireArgs }) as CallOutcome
  if (outcome.ok) return fromWire(outcome.value) as T
  const err = new Error(`in page ${page.url()} ${name}(): ${outcome.error.message}`)
  err.name = outcome.error.name
  if (outcome.error.stack !== undefined) err.stack = `${err.name}: ${err.message}\n--- page stack ---\n${outcome.error.stack}`
  throw err
}

/** Saves a full-page PNG as test-results/<name>.png and returns its path. */
export async function screenshot (page: Page, name: string): Promise<string> {
  const dir = join(REPO_ROOT, 'test-results')
  mkdirSync(dir, { recursive: true })
  const path = join(dir, `${name.replace(/[^A-Za-z0-9._-]+/g, '_')}.png`)
  await page.screenshot({ path, fullPage: true })
  return path
}
