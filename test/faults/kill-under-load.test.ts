// kill -9 under load, again and again: a `weft node start` process (noops) takes REST invokes of
// example02 from 16 clients and is killed at a random moment, WEFT_FAULTS_KILLS times (20 by
// default). After each kill the store is opened as it was left: the chain links up, the state is
// the last block's, every committed invoke moved exactly one unit (a + b conserved, b = the count),
// and every invoke acknowledged with "wait" is in the chain. The last round stops with SIGTERM in
// the middle of the load instead: the process exits 0 and the same holds.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fromBinary } from '@bufbuild/protobuf'
import { afterAll, describe, expect, it } from 'vitest'
import { EXAMPLES_ROOT } from '../../node/chaincode/package.ts'
import { openLevelDB } from '../../node/storage.ts'
import { loadConfig } from '../../src/config/index.ts'
import { fromUtf8, toHex } from '../../src/crypto/bytes.ts'
import { Ledger } from '../../src/ledger/ledger.ts'
import { ChaincodeInvocationSpecSchema } from '../../src/protos/chaincode_pb.ts'
import { Transaction_Type } from '../../src/protos/fabric_pb.ts'
import { freePorts } from '../free-ports.ts'
import { rng } from './fuzz-kit.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const KILLS = Number(process.env.WEFT_FAULTS_KILLS ?? 20)
const TOTAL = 1_000_000
let dir = ''
let child: ChildProcess | undefined
afterAll(async () => {
  if (child?.exitCode === null) child.kill('SIGKILL')
  if (dir !== '') await rm(dir, { recursive: true, force: true })
})

async function start (ports: number[]): Promise<{ url: string, exited: Promise<{ code: number | null, signal: string | null }> }> {
  const p = spawn(process.execPath, [join(root, 'bin/weft.mjs'), 'node', 'start'], {
    cwd: root,
    env: {
      ...process.env,
      CORE_PEER_ID: 'vp0',
      CORE_PEER_FILESYSTEMPATH: dir,
      CORE_PEER_ADDRESS: `127.0.0.1:${ports[0]}`,
      CORE_REST_ADDRESS: `127.0.0.1:${ports[1]}`,
      CORE_PEER_VALIDATOR_EVENTS_ADDRESS: `127.0.0.1:${ports[2]}`,
      CORE_PEER_LIBP2P_ADDRESS: `127.0.0.1:${ports[3]}`,
      CORE_WEB_ENABLED: 'false',
      CORE_NOOPS_BLOCK_SIZE: '50',
      CORE_NOOPS_BLOCK_WAIT: '20ms'
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  child = p
  let out = ''
  p.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  p.stderr!.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<{ code: number | null, signal: string | null }>(resolve => { p.once('exit', (code, signal) => resolve({ code, signal })) })
  const deadline = Date.now() + 30_000
  while (!out.includes('REST    http')) {
    if (p.exitCode !== null || Date.now() > deadline) throw new Error(`the peer did not start:\n${out}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return { url: `http://127.0.0.1:${ports[1]}`, exited }
}

async function rpc (url: string, method: string, params: unknown, wait?: string): Promise<{ result?: { message: string }, error?: unknown }> {
  const res = await fetch(`${url}/chaincode`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1, ...(wait === undefined ? {} : { wait }) }) })
  return await res.json() as { result?: { message: string } }
}

/** The store as the process left it: intact chain, the invokes it holds, and the balances. */
async function inspect (name: string): Promise<{ height: number, invokes: Set<string>, a: number, b: number }> {
  const c = loadConfig().ledger.state.dataStructure.configs
  const ledger = await Ledger.open(await openLevelDB(join(dir, 'db')), { numBuckets: c.numBuckets, maxGroupingAtEachLevel: c.maxGroupingAtEachLevel })
  try {
    const height = ledger.height
    expect(await ledger.verifyChain(height - 1, 0)).toBe(0)
    const last = await ledger.getBlockByNumber(height - 1)
    expect(toHex((await ledger.getTempStateHash()) ?? new Uint8Array(0))).toBe(toHex(last!.stateHash))
    const invokes = new Set<string>()
    for (let n = 0; n < height; n++) {
      for (const tx of (await ledger.getBlockByNumber(n))!.transactions) {
        if (tx.type !== Transaction_Type.CHAINCODE_INVOKE) continue
        expect(fromBinary(ChaincodeInvocationSpecSchema, tx.payload).chaincodeSpec?.chaincodeID?.name).toBe(name)
        expect(invokes.has(tx.txid)).toBe(false)
        invokes.add(tx.txid)
      }
    }
    const read = async (k: string): Promise<number> => Number(fromUtf8((await ledger.getState(name, k, true))!))
    return { height, invokes, a: await read('a'), b: await read('b') }
  } finally {
    await ledger.close()
  }
}

describe(`kill -9 under load (${KILLS} times), then SIGTERM`, () => {
  it('loses no committed block, tears none, and conserves every balance', async () => {
    const r = rng(7)
    dir = await mkdtemp(join(tmpdir(), 'weft-kill-'))
    const ports = await freePorts(4)
    let peer = await start(ports)
    const deployed = await rpc(peer.url, 'deploy', { type: 2, chaincodeID: { path: join(EXAMPLES_ROOT, 'example02.ts') }, ctorMsg: { args: ['init', 'a', String(TOTAL), 'b', '0'] } }, '30s')
    const name = deployed.result!.message
    const durable = new Set<string>()
    let lastHeight = 0
    for (let round = 0; round <= KILLS; round++) {
      const graceful = round === KILLS
      let loading = true
      let acked = 0
      const clients = Array.from({ length: 16 }, async (_, c) => {
        while (loading) {
          // A quarter of the clients wait for the block: what they were told is committed must survive.
          const res = await rpc(peer.url, 'invoke', { type: 2, chaincodeID: { name }, ctorMsg: { args: ['invoke', 'a', 'b', '1'] } }, c % 4 === 0 ? '10s' : undefined).catch(() => undefined)
          if (c % 4 === 0 && res?.result !== undefined) { durable.add(res.result.message); acked++ }
        }
      })
      // Killed at a random moment once the round has had a commit acknowledged, mid-load.
      for (const until = Date.now() + 30_000; acked === 0 && Date.now() < until;) await new Promise(resolve => setTimeout(resolve, 20))
      await new Promise(resolve => setTimeout(resolve, r.int(900)))
      child!.kill(graceful ? 'SIGTERM' : 'SIGKILL')
      const exit = await peer.exited
      loading = false
      await Promise.all(clients)
      if (graceful) expect(exit).toEqual({ code: 0, signal: null })
      else expect(exit.signal).toBe('SIGKILL')

      const seen = await inspect(name)
      expect(seen.height).toBeGreaterThanOrEqual(lastHeight)
      lastHeight = seen.height
      expect(seen.a + seen.b).toBe(TOTAL)
      expect(seen.b).toBe(seen.invokes.size)
      for (const txid of durable) expect(seen.invokes.has(txid), `acknowledged ${txid} is in the chain`).toBe(true)
      if (!graceful) peer = await start(ports)
    }
    expect(durable.size).toBeGreaterThan(KILLS)
  }, 900_000)
})
