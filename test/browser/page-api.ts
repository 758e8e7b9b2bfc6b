// Runs inside the Chromium tab. An entry module (test/browser/entries/*.ts)
// calls exposeTestApi({ name: async (...args) => result, ... }); the Node side
// then calls those functions with callInPage(page, name, ...args) (harness.ts).
//
// Arguments and results may be JSON values, Uint8Array, bigint, undefined,
// Map, arrays and plain objects (see wire.ts). A thrown error comes back to
// Node as an Error carrying the page's message and stack.
import { fromWire, toWire, type Wire } from './wire.ts'

export type TestFn = (...args: any[]) => unknown
export type TestApi = Record<string, TestFn>

export type CallOutcome = { ok: true, value: Wire } | { ok: false, error: { name: string, message: string, stack?: string } }

export interface WeftTestGlobal {
  ready: true
  entry: string
  names: string[]
  call (name: string, args: Wire[]): Promise<CallOutcome>
}

declare global {
  interface Window { __weftTest?: WeftTestGlobal }
}

/** Publishes `api` as window.__weftTest and shows a small status panel (useful in screenshots). */
export function exposeTestApi (entry: string, api: TestApi): void {
  const log = statusPanel(entry, Object.keys(api))
  window.__weftTest = {
    ready: true,
    entry,
    names: Object.keys(api),
    async call (name, args) {
      const fn = api[name]
      try {
        if (typeof fn !== 'function') throw new Error(`no test function "${name}" in entry ${entry} (has: ${Object.keys(api).join(', ')})`)
        const value = await fn(...args.map(fromWire))
        log(`${name}: ok`)
        return { ok: true, value: toWire(value) }
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err))
        log(`${name}: ${e.name}: ${e.message}`)
        return { ok: false, error: { name: e.name, message: e.message, stack: e.stack } }
      }
    }
  }
}

function statusPanel (entry: string, names: string[]): (line: string) => void {
  const root = document.getElementById('weft-test') ?? document.body.appendChild(document.createElement('div'))
  root.id = 'weft-test'
  root.innerHTML = ''
  const h = root.appendChild(document.createElement('h1'))
  h.textContent = 'Weft browser test'
  const p = root.appendChild(document.createElement('p'))
  p.textContent = `entry ${entry} — functions: ${names.join(', ')} — loaded ${new Date().toISOString()}`
  const ul = root.appendChild(document.createElement('ul'))
  return (line) => { ul.appendChild(document.createElement('li')).textContent = line }
}
