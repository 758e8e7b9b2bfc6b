// Ledger commit throughput: blocks of example02-like transactions (two writes each) on
// LevelDB, with core.yaml's bucket tree. Prints figures; asserts nothing.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { utf8 } from '../src/crypto/bytes.ts'
import { Ledger, makeGenesis } from '../src/ledger/ledger.ts'
import { memoryStore } from '../src/storage/memory.ts'
import { openLevelDB } from '../node/storage.ts'

const blocks = Number(process.env.BENCH_BLOCKS ?? 40)
const txPerBlock = Number(process.env.BENCH_TX ?? 500)
const accounts = 10_000

async function run (label: string, ledger: Ledger): Promise<void> {
  await makeGenesis(ledger)
  const t0 = performance.now()
  for (let b = 0; b < blocks; b++) {
    const n = ledger.height
    ledger.beginTxBatch(n)
    for (let t = 0; t < txPerBlock; t++) {
      const txid = `${n}.${t}`
      ledger.txBegin(txid)
      const from = `acct${(n * 7919 + t * 104729) % accounts}`
      const to = `acct${(n * 31 + t * 7) % accounts}`
      await ledger.getState('mycc', from, false)
      await ledger.setState('mycc', from, utf8(String(t)))
      await ledger.setState('mycc', to, utf8(String(n)))
      ledger.txFinished(txid, true)
    }
    await ledger.commitTxBatch(n, [], undefined)
  }
  const s = (performance.now() - t0) / 1000
  console.log(`${label}: ${blocks} blocks × ${txPerBlock} tx in ${s.toFixed(2)} s → ${(blocks * txPerBlock / s).toFixed(0)} tx/s, ${(blocks / s).toFixed(1)} blocks/s, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`)
}

const dir = await mkdtemp(join(tmpdir(), 'weft-bench-'))
try {
  const level = await Ledger.open(await openLevelDB(dir))
  await run('ledger commit, LevelDB', level)
  await level.close()
  await run('ledger commit, memory', await Ledger.open(await memoryStore()))
} finally {
  await rm(dir, { recursive: true, force: true })
}
