// `weft network up 4 --security` with its web app, as the README runs it: jim logs in in a tab
// served by vp0, deploys and invokes example02 signed in the tab with his TCerts, and all four
// enrolled PBFT validators commit one chain holding the tab's signed transactions.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { networkUpPerTest } from '../helpers/network-up.ts'
import { waitFor } from '../helpers/wait.ts'
import { openApp } from './app-harness.ts'
import { startBrowser, type WeftBrowser } from './harness.ts'

const networkUp = networkUpPerTest()
let browser: WeftBrowser

beforeAll(async () => { browser = await startBrowser() }, 60_000)
afterAll(async () => { await browser?.close() })

interface Chain { height: number, currentBlockHash: string }
interface Tx { txid: string, cert?: string, signature?: string }

it('a user logs in in a tab of a CA + 4 PBFT validators network and deploys and invokes; all four commit the tab-signed transactions', async () => {
  const { up } = await networkUp(['4', '--security', '--timeout', '60'])
  await up.waitForOutput('the network to be up', /^Every peer is up/m, { timeoutMs: 150_000, everyMs: 200 })
  const rows = [...up.stdout.matchAll(/^(vp\d)\s+(http:\/\/127\.0\.0\.1:\d+)\s+\S+\s+\S+\s+(http:\/\/127\.0\.0\.1:\d+)\s+(12D3\w+)$/gm)]
  expect(rows.map(r => r[1])).toEqual(['vp0', 'vp1', 'vp2', 'vp3'])
  const rest = rows.map(r => r[2])
  const jim = /^jim\s+(\w+)\s+bank_a$/m.exec(up.stdout)?.[1]
  expect(jim).toBeDefined()

  const page = await browser.newPage('A')
  await openApp(page, rows[0][3])
  await page.evaluate(async secret => { await window.weft.login('jim', secret) }, jim!)
  expect(await page.evaluate(() => window.weft.users())).toEqual(['jim'])

  const chains = async (): Promise<Chain[]> => await Promise.all(rest.map(async url => await (await fetch(`${url}/chain`)).json() as Chain))
  const allAt = async (height: number): Promise<Chain[]> => await waitFor(`one chain of height ${height} on all four`, async () => {
    const cs = await chains()
    return cs.every(c => c.height === height && c.currentBlockHash === cs[0].currentBlockHash) && cs
  }, { timeoutMs: 60_000, everyMs: 200 })

  const { name } = await page.evaluate(async () => await window.weft.deploy({ example: 'example02', args: ['init', 'a', '100', 'b', '200'] }, { user: 'jim', wait: false }))
  await allAt(2)
  const { txid } = await page.evaluate(async cc => await window.weft.invoke(cc, ['invoke', 'a', 'b', '7'], { user: 'jim', wait: false }), name)
  await allAt(3)

  // Each validator holds both transactions as the tab signed them: the same TCert and signature everywhere.
  for (const id of [name, txid]) {
    const held = await Promise.all(rest.map(async url => await (await fetch(`${url}/transactions/${id}`)).json() as Tx))
    expect(held.every(tx => tx.txid === id && (tx.cert ?? '') !== '' && (tx.signature ?? '') !== '')).toBe(true)
    expect(new Set(held.map(tx => `${tx.cert}/${tx.signature}`)).size).toBe(1)
  }
  const value = await page.evaluate(async cc => await window.weft.query(cc, ['query', 'a'], { user: 'jim' }), name)
  expect(value).toBe('93')
  // Before the network goes down, so the tab does not report its peers gone.
  await page.close()
}, 240_000)
