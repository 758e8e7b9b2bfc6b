// kill -9 under load, again and again: a `weft node start` process (noops) takes REST invokes of
// example02 from 16 clients and is killed at a random moment, WEFT_FAULTS_KILLS times (20 by
// default). After each kill the store is opened as it was left: the chain links up, the state is
// the last block's, every committed invoke moved exactly one unit (a + b conserved, b = the count),
// and every invoke acknowledged with "wait" is in the chain. The last round stops with SIGTERM in
// the middle of the load instead: the process exits 0 and the same holds.
import { join } from 'node:path'
import { fromBinary } from '@bufbuild/protobuf'
import { afterAll, describe, expect, it } from 'vitest'
import { EXAMPLES_ROOT } from '../../node/chaincode/package.ts'
import { openLevelDB } from '../../node/storage.ts'
import { loadConfig } from '../../src/config/index.ts'
import { fromUtf8, toHex } from '../../src/crypto/bytes.ts'
import { Ledger } from '../../src/ledger/ledger.ts'
import { ChaincodeInvocationSpecSchema } from '../../src/protos/chaincode_pb.ts'
import { Transaction_Type } from '../../src/protos/fabric_pb.ts'
import { waitFor } from '../helpers/wait.ts'
import type { Exit } from '../helpers/processes.ts'
import { WeftProcesses } from '../helpers/weft-processes.ts'
import { rng } from './fuzz-kit.ts'

const KILLS = Number(process.env.WEFT_FAULTS_KILLS ?? 20)
const TOTAL = 1_000_000
let procs: WeftProcesses | undefined
afterAll(async () => { await procs?.stop() })

/** The store as the process left it: intact chain, the invokes it holds, and the balances. */
async function inspect (dir: string, name: string): Promise<{ height: number, invokes: Set<string>, a: number, b: number }> {
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
    const w = procs = await WeftProcesses.create(1, () => ({ CORE_LOGGING_NODE: 'warning', CORE_NOOPS_BLOCK_SIZE: '50', CORE_NOOPS_BLOCK_WAIT: '20ms' }))
    await w.start(0)
    const deployed = await w.rpc(0, 'deploy', { type: 2, chaincodeID: { path: join(EXAMPLES_ROOT, 'example02.ts') }, ctorMsg: { args: ['init', 'a', String(TOTAL), 'b', '0'] } }, '30s')
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
          const res = await w.rpc(0, 'invoke', { type: 2, chaincodeID: { name }, ctorMsg: { args: ['invoke', 'a', 'b', '1'] } }, c % 4 === 0 ? '10s' : undefined).catch(() => undefined)
          if (c % 4 === 0 && res?.result !== undefined) { durable.add(res.result.message); acked++ }
        }
      })
      let exit: Exit | undefined
      try {
        // Killed at a random moment once the round has had a commit acknowledged, mid-load.
        await waitFor('a commit acknowledged in this round', () => acked > 0, 30_000)
        await new Promise(resolve => setTimeout(resolve, r.int(900)))
        exit = await w.kill(0, graceful ? 'SIGTERM' : 'SIGKILL')
      } finally {
        loading = false
        await Promise.all(clients)
      }
      if (graceful) expect(exit).toEqual({ code: 0, signal: null })
      else expect(exit?.signal).toBe('SIGKILL')

      const seen = await inspect(w.dataDir(0), name)
      expect(seen.height).toBeGreaterThanOrEqual(lastHeight)
      lastHeight = seen.height
      expect(seen.a + seen.b).toBe(TOTAL)
      expect(seen.b).toBe(seen.invokes.size)
      for (const txid of durable) expect(seen.invokes.has(txid), `acknowledged ${txid} is in the chain`).toBe(true)
      if (!graceful) await w.start(0)
    }
    expect(durable.size).toBeGreaterThan(KILLS)
  }, 900_000)
})
