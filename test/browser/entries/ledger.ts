// Runs in the tab: the ledger on IndexedDB. Checks the conformance vectors through the real
// ledger code, and commits blocks that must survive a page reload; benchCommits is bench/browser.ts's.
import { toHex, utf8 } from '../../../src/crypto/bytes.ts'
import { checkBlockHashCase } from '../../../src/conformance/block-hash.ts'
import { checkStateHashCase } from '../../../src/conformance/state-hash.ts'
import { Ledger, makeGenesis } from '../../../src/ledger/ledger.ts'
import { destroyIndexedDB, openIndexedDB } from '../../../web/storage.ts'
import { measure, populate, type Workload } from '../../../bench/tools/ledger-blocks.ts'
import { exposeTestApi } from '../page-api.ts'

let run = 0

async function chainSummary (ledger: Ledger) {
  const info = await ledger.getBlockchainInfo()
  return {
    height: ledger.height,
    currentBlockHash: toHex(info.currentBlockHash),
    stateHash: toHex((await ledger.getTempStateHash()) ?? new Uint8Array(0)),
    lastBlockStateHash: toHex((await ledger.getBlockByNumber(ledger.height - 1))?.stateHash ?? new Uint8Array(0)),
    intactDownTo: ledger.height > 0 ? await ledger.verifyChain(ledger.height - 1, 0) : 0
  }
}

exposeTestApi('ledger', {
  async stateHashVectors (cases: unknown[]) {
    const out = []
    // Each case gets its own IndexedDB database, as the Node run gets its own memory store.
    for (const c of cases) out.push(await checkStateHashCase(c, name => openIndexedDB(`weft-vector-${run++}-${name}`)))
    return out
  },
  blockHashVectors (cases: unknown[]) {
    return cases.map(c => checkBlockHashCase(c))
  },
  async commitBlocks (name: string, count: number) {
    const ledger = await Ledger.open(await openIndexedDB(name))
    try {
      await makeGenesis(ledger)
      for (let i = 0; i < count; i++) {
        const n = ledger.height
        ledger.beginTxBatch(n)
        ledger.txBegin(`tx${n}`)
        await ledger.setState('mycc', `k${n % 7}`, utf8(`v${n}`))
        if (n % 3 === 0) await ledger.deleteState('mycc', `k${(n + 1) % 7}`)
        ledger.txFinished(`tx${n}`, true)
        await ledger.commitTxBatch(n, [], undefined)
      }
      return await chainSummary(ledger)
    } finally {
      await ledger.close()
    }
  },
  /** bench/ledger.ts's 500-tx block commits, on IndexedDB: tx/s figures per workload. */
  async benchCommits (name: string, keys: number, runs: number) {
    const ledger = await Ledger.open(await openIndexedDB(name))
    const out: Record<string, unknown> = {}
    try {
      await makeGenesis(ledger)
      await populate(ledger, keys)
      for (const w of ['transfer', 'insert'] as Workload[]) out[w] = await measure(ledger, w, keys, runs)
    } finally {
      await ledger.close()
      await destroyIndexedDB(name)
    }
    return out
  },
  async readChain (name: string) {
    const ledger = await Ledger.open(await openIndexedDB(name))
    try { return await chainSummary(ledger) } finally { await ledger.close() }
  }
})
