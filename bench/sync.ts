// Catching up: how fast a fresh Node peer syncs a chain into LevelDB. A source peer (`weft node
// start`, noops validator) holds a chain of WEFT_BENCH_BLOCKS blocks, built here with the ledger
// API in its data directory before it starts (each block a few example02 invokes moving amounts
// between WEFT_BENCH_SYNC_ACCOUNTS accounts, so every block has a real state delta). Each run
// starts a fresh non-validating peer whose root node is the source, over gRPC Chat (host:port)
// and over libp2p (the source's multiaddr), and times it from its start (it prints its
// addresses, having just dialled the root node) until its /chain height is the source's; its
// currentBlockHash must then equal the source's. Process start-up (spawn to listening) is shown
// apart. With Fabric's defaults (statetransfer.maxdeltas 200) a peer this far behind fetches the
// blocks backwards, 10 per request, then one state snapshot.
//   npm run bench sync          WEFT_BENCH_BLOCKS (10000), WEFT_BENCH_RUNS (5, after one warm-up run),
//                               WEFT_BENCH_SYNC_TX (4 per block), WEFT_BENCH_SYNC_ACCOUNTS (1000),
//                               WEFT_BENCH_ONLY=grpc|libp2p
//   WEFT_BENCH_SHORT=1          one run of 300 blocks per transport, no warm-up (the CI smoke test)
//   WEFT_BENCH_CPU_PROF=DIR     the syncing peer runs with --cpu-prof, profiles written to DIR
import { create } from '@bufbuild/protobuf'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { mkdir, rm } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { join, resolve } from 'node:path'
import { newExecuteTransaction } from '../src/chaincode/transactions.ts'
import { utf8 } from '../src/crypto/bytes.ts'
import { timestampAt } from '../src/ledger/block.ts'
import { Ledger, makeGenesis } from '../src/ledger/ledger.ts'
import { ChaincodeInvocationSpecSchema } from '../src/protos/chaincode_pb.ts'
import { Transaction_Type, type Transaction } from '../src/protos/fabric_pb.ts'
import { openLevelDB } from '../node/storage.ts'
import { WeftProcesses, type ChainInfo } from '../test/helpers/weft-processes.ts'
import { writeResults } from './tools/results.ts'
import { fmt, median } from './tools/weft-peer.ts'

const short = process.env.WEFT_BENCH_SHORT === '1'
const blocks = Number(process.env.WEFT_BENCH_BLOCKS ?? (short ? 300 : 10_000))
const runs = short ? 1 : Number(process.env.WEFT_BENCH_RUNS ?? 5)
const warmup = short ? 0 : 1
const txPerBlock = Number(process.env.WEFT_BENCH_SYNC_TX ?? 4)
const accounts = Number(process.env.WEFT_BENCH_SYNC_ACCOUNTS ?? 1000)
const only = process.env.WEFT_BENCH_ONLY?.split(',')
const cpuProf = process.env.WEFT_BENCH_CPU_PROF === undefined ? undefined : resolve(process.env.WEFT_BENCH_CPU_PROF)

/** The source's ledger: genesis, then blocks 1..blocks-1 of example02 invokes (height `blocks`). */
async function buildChain (dir: string): Promise<{ ms: number, txs: number }> {
  const t0 = performance.now()
  const ledger = await Ledger.open(await openLevelDB(dir))
  await makeGenesis(ledger)
  const balances = new Map<string, number>()
  let txs = 0
  for (let n = ledger.height; n < blocks; n++) {
    ledger.beginTxBatch(n)
    const done: Transaction[] = []
    for (let t = 0; t < txPerBlock; t++) {
      const from = `acct${(n * 7919 + t * 104729) % accounts}`
      const to = `acct${(n * 31 + t * 7 + 1) % accounts}`
      const txid = `sync-bench-${n}-${t}`
      const cis = create(ChaincodeInvocationSpecSchema, { chaincodeSpec: { type: 1, chaincodeID: { name: 'mycc' }, ctorMsg: { args: [utf8('invoke'), utf8(from), utf8(to), utf8('1')] } } })
      ledger.txBegin(txid)
      // example02's invoke: read both, write both.
      await ledger.getState('mycc', from, false)
      await ledger.getState('mycc', to, false)
      const a = (balances.get(from) ?? 1_000_000) - 1
      const b = (balances.get(to) ?? 1_000_000) + 1
      balances.set(from, a).set(to, b)
      await ledger.setState('mycc', from, utf8(String(a)))
      await ledger.setState('mycc', to, utf8(String(b)))
      ledger.txFinished(txid, true)
      done.push(newExecuteTransaction(cis, txid, Transaction_Type.CHAINCODE_INVOKE, timestampAt(Date.now())))
      txs++
    }
    await ledger.commitTxBatch(n, done, undefined)
  }
  await ledger.close()
  return { ms: performance.now() - t0, txs }
}

interface Run { ms: number, startupMs: number, blocksPerSecond: number, hashOk: boolean }
interface Row { transport: 'grpc' | 'libp2p', runs: Run[] }

let rootnode = ''
// vp0: the source (validator, noops); vp1: the fresh non-validating peer.
const procs = await WeftProcesses.create(2, i => i === 0
  ? { CORE_LOGGING_NODE: 'warning' }
  : {
      CORE_LOGGING_NODE: 'warning',
      CORE_PEER_VALIDATOR_ENABLED: 'false',
      CORE_PEER_DISCOVERY_ROOTNODE: rootnode
    })
const rows: Row[] = []
let source: ChainInfo
let built: { ms: number, txs: number }
try {
  const key = await generateKeyPair('Ed25519')
  await procs.writeFile('vp0/identity.key', privateKeyToProtobuf(key))
  const multiaddr = `/ip4/127.0.0.1/tcp/${procs.port(0, 'libp2p')}/ws/p2p/${peerIdFromPrivateKey(key).toString()}`
  built = await buildChain(join(procs.dataDir(0), 'db'))
  console.log(`  built a chain of ${blocks} blocks (${built.txs} transactions) in ${fmt(built.ms / 1000)} s`)
  await procs.start(0)
  source = await procs.chain(0)
  if (source.height !== blocks) throw new Error(`the source peer has height ${source.height}, not ${blocks}`)

  for (const transport of ['grpc', 'libp2p'] as const) {
    if (only !== undefined && !only.includes(transport)) continue
    rootnode = transport === 'grpc' ? procs.grpc(0) : multiaddr
    const row: Row = { transport, runs: [] }
    for (let i = 0; i < warmup + runs; i++) {
      await rm(procs.dataDir(1), { recursive: true, force: true })
      await mkdir(procs.dataDir(1), { recursive: true })
      if (cpuProf !== undefined) await mkdir(cpuProf, { recursive: true })
      const spawned = performance.now()
      await procs.start(1, [], cpuProf === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProf}`])
      const started = performance.now()
      // Polled every 20 ms (procs.waitFor's default 200 ms would blur a sync of a few seconds).
      const synced = await procs.waitFor(`vp1 to sync ${blocks} blocks over ${transport}`, async () => {
        const c = await procs.chain(1)
        return c.height >= blocks && c
      }, { timeoutMs: 600_000, everyMs: 20 })
      const ms = performance.now() - started
      // SIGTERM, so that a --cpu-prof profile is written.
      await procs.kill(1, cpuProf === undefined ? 'SIGKILL' : 'SIGTERM')
      const run: Run = { ms, startupMs: started - spawned, blocksPerSecond: blocks / (ms / 1000), hashOk: synced.currentBlockHash === source.currentBlockHash && synced.height === source.height }
      const label = i < warmup ? 'warm-up' : `run ${i - warmup + 1}`
      console.log(`  ${transport} ${label}: ${blocks} blocks in ${fmt(ms / 1000)} s → ${fmt(run.blocksPerSecond)} blocks/s (start-up ${fmt(run.startupMs)} ms), hash ${run.hashOk ? 'ok' : 'WRONG'}`)
      if (i >= warmup) row.runs.push(run)
    }
    rows.push(row)
  }
} finally {
  await procs.stop()
}

const header = `${runs} run(s) after ${warmup} warm-up run(s): a fresh non-validating peer syncs ${blocks} blocks (${txPerBlock} example02 invokes each, ${accounts} accounts) ` +
  `from a source peer into LevelDB; ${availableParallelism()} cores, Node ${process.version}`
const table = [
  '| transport | blocks/s (median) | min | max | sync s (median) | start-up ms (median) | hash |',
  '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ...rows.map(r => {
    const bps = r.runs.map(x => x.blocksPerSecond)
    return `| ${r.transport} | ${fmt(median(bps))} | ${fmt(Math.min(...bps))} | ${fmt(Math.max(...bps))} | ${fmt(median(r.runs.map(x => x.ms)) / 1000)} | ${fmt(median(r.runs.map(x => x.startupMs)))} | ${r.runs.every(x => x.hashOk) ? 'ok' : 'WRONG'} |`
  })
].join('\n')
console.log(`\n${header}\n${table}`)
await writeResults('sync', { header, blocks, txPerBlock, accounts, runs, warmup, cores: availableParallelism(), node: process.version, source: source!, built: built!, rows }, `${header}\n\n${table}\n`)
if (rows.some(r => r.runs.some(x => !x.hashOk))) process.exitCode = 1
