// NODE chaincode in Web Workers inside Chromium: runs confined (no way to the network, storage or
// the worker's own global), and one that crashes or hangs is terminated and restarted while the
// tab's peer goes on.
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXAMPLES_ROOT, packageChaincode } from '../../node/chaincode/package.ts'
import { callInPage, openEntry, serveEntry, startBrowser, type ServedEntry, type WeftBrowser } from './harness.ts'

const misbehaving = `
let calls = 0
const escapes = {
  fetch: () => fetch('/'),
  webSocket: () => new WebSocket('ws://127.0.0.1:1/'),
  indexedDB: () => indexedDB.open('x'),
  importScripts: () => importScripts('/x.js'),
  self: () => self.postMessage('x'),
  ctor: () => escapes.constructor.constructor('return self')(),
  wasm: () => new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])),
  timers: () => setTimeout(() => {}, 0),
  proto: () => { Object.prototype.polluted = 1 }
}
export function init () {}
export async function invoke (stub, fn, args) {
  if (fn === 'put') return await stub.putState(args[0], String(++calls))
  if (fn === 'crash') { Promise.reject(new Error('boom')); return await new Promise(() => {}) }
  if (fn === 'escape') {
    let outcome
    try { outcome = 'ran: ' + String(await escapes[args[0]]()) } catch (err) { outcome = err.name + ': ' + err.message }
    return await stub.putState('escape-' + args[0], outcome)
  }
  if (fn === 'hang') for (;;) {}
  throw new Error('unknown function ' + fn)
}
export async function query (stub, fn, args) { return (await stub.getState(args[0])) ?? 'none' }
`

describe('chaincode in Web Workers (Chromium)', () => {
  let browser: WeftBrowser
  let server: ServedEntry
  let page: Page

  beforeAll(async () => {
    ;[browser, server] = await Promise.all([startBrowser(), serveEntry('test/browser/entries/chaincode.ts')])
    page = await browser.newPage('chaincode')
    await openEntry(page, server.url)
    await callInPage(page, 'start', 2000)
  })
  afterAll(async () => {
    if (page !== undefined) await callInPage(page, 'stop').catch(() => {})
    await browser?.close()
    await server?.close()
  })

  it('runs the packaged example02', async () => {
    const source = new TextDecoder().decode(await packageChaincode(new URL('../../examples/chaincode/example02.ts', import.meta.url).pathname, { roots: [EXAMPLES_ROOT] }))
    const name = await callInPage<string>(page, 'deploy', source, ['init', 'a', '100', 'b', '200'])
    expect(await callInPage(page, 'invoke', name, [['invoke', 'a', 'b', '25'], ['invoke', 'a', 'nobody', '1']]))
      .toEqual(['', 'Transaction or query returned with failure: Entity not found'])
    expect(await callInPage(page, 'query', name, ['query', 'b'])).toBe('225')
  })

  it('restarts a chaincode whose worker crashed or hung', async () => {
    const name = await callInPage<string>(page, 'deploy', misbehaving, ['init'])
    expect(await callInPage(page, 'invoke', name, [['put', 'k'], ['put', 'k']])).toEqual(['', ''])
    expect(await callInPage(page, 'query', name, ['get', 'k'])).toBe('2')
    const [crash] = await callInPage<string[]>(page, 'invoke', name, [['crash']])
    expect(crash).toMatch(/^Transaction or query returned with failure: chaincode .* is gone: chaincode .* crashed: .*boom/)
    expect(await callInPage(page, 'invoke', name, [['put', 'k']])).toEqual([''])
    expect(await callInPage(page, 'query', name, ['get', 'k'])).toBe('1')
    expect(await callInPage(page, 'invoke', name, [['hang'], ['put', 'k']]))
      .toEqual(['Failed to execute transaction or query(Timeout expired while executing transaction)', ''])
    expect(await callInPage(page, 'query', name, ['get', 'k'])).toBe('1')
  })

  it('refuses every way out of the Web Worker sandbox with an error', async () => {
    const name = await callInPage<string>(page, 'deploy', misbehaving, ['init', 'sandbox'])
    const tries = ['fetch', 'webSocket', 'indexedDB', 'importScripts', 'self', 'ctor', 'wasm', 'timers', 'proto']
    expect(await callInPage(page, 'invoke', name, tries.map(t => ['escape', t]))).toEqual(tries.map(() => ''))
    for (const t of tries) {
      const outcome = await callInPage<string>(page, 'query', name, ['get', `escape-${t}`])
      expect(outcome, t).toMatch(/^(TypeError|ReferenceError): /)
    }
    expect(await callInPage(page, 'invoke', name, [['put', 'k']])).toEqual([''])
    expect(await callInPage(page, 'query', name, ['get', 'k'])).toBe('1')
  })

  it('refuses at deploy a package that imports', async () => {
    await expect(callInPage(page, 'deploy', "import x from '/evil.js'\nexport function init () {}", [])).rejects.toThrow("chaincode refused: it imports '/evil.js'")
  })
})
