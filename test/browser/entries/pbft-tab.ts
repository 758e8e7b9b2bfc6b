// Runs in the tab: four PBFT replicas (whole peers from src/ on memory-level stores, with the
// simulation's chaincode) on an in-page network, first on virtual time with injected faults, then
// in real time with the primary killed and restarted.
import { setLogLevel } from '../../../src/util/logger.ts'
import { SimCluster } from '../../sim/cluster.ts'
import { runScenario, type FaultKind } from '../../sim/scenario.ts'
import { RealClock, type Settle } from '../../sim/scheduler.ts'
import { exposeTestApi } from '../page-api.ts'

setLogLevel('silent')

// A macrotask turn through one MessageChannel: lets IndexedDB-free promise chains settle between virtual steps.
const channel = new MessageChannel()
const waiting: Array<() => void> = []
channel.port1.onmessage = () => waiting.shift()?.()
const settleTab: Settle = () => new Promise(resolve => { waiting.push(resolve); channel.port2.postMessage(0) })

exposeTestApi('pbft-tab', {
  /** Randomized runs (test/sim/scenario.ts), optionally all with one fault. */
  async simulate (seeds: number[], fault?: FaultKind) {
    const out = []
    for (const seed of seeds) {
      const r = await runScenario(seed, { fault, settle: settleTab })
      out.push({ seed: r.seed, fault: r.fault, ok: r.ok, problems: r.problems, maxView: r.maxView, requests: r.requests })
    }
    return out
  },

  /** Real time: commits, the primary is killed, commits go on after one view change, it restarts and catches up. */
  async realtime () {
    const c = await new SimCluster({
      seed: 42,
      clock: new RealClock(),
      config: { K: 2, logMultiplier: 4, batchSize: 5, timeouts: { batch: 50, request: 1500, viewChange: 1500, resendViewChange: 1500 } }
    }).start()
    const phase = async (to: number[], n: number, among?: number[]): Promise<string[]> => {
      const txs = Array.from({ length: n }, (_, i) => c.submit(to[i % to.length]))
      if (!await c.runUntil(() => c.converged(txs, among), 20_000)) throw new Error(`no convergence:\n${c.describe()}`)
      return txs
    }
    const t0 = performance.now()
    await phase([0, 1, 2, 3], 20)
    await c.replicas[0].crash()
    await phase([1, 2, 3], 20, [1, 2, 3])
    const viewsWhileDown = c.replicas.slice(1).map(r => r.status().view)
    await c.replicas[0].boot()
    await c.reconnect()
    await phase([1, 2, 3], 10, [1, 2, 3])
    // Traffic until the restarted replica has caught up to the others' state (at a checkpoint).
    for (let i = 0; i < 20 && !c.converged([]); i++) await phase([1, 2, 3], 1, [1, 2, 3])
    const caughtUp = { view: c.replicas[0].status().view, height: c.heights[0], hashes: [...(await c.stateHashes()).values()] }
    // The restarted replica is a full member again: with another one down it is needed for every quorum.
    await c.replicas[3].crash()
    await phase([0, 1, 2], 10)
    const result = {
      ms: Math.round(performance.now() - t0),
      viewsWhileDown,
      caughtUp,
      heights: [...c.heights],
      stateHashes: [...(await c.stateHashes()).values()],
      safety: await c.checkSafety()
    }
    await c.stop()
    return result
  }
})
