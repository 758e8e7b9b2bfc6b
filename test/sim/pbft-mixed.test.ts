// Mixed networks: replicas that follow Fabric 0.6.1's PBFT rules only next to Weft replicas,
// 1+3, 2+2 and 3+1 of N = 4, across the seeded faults of pbft-random.test.ts.
//   WEFT_SIM_MIXED_SEEDS=3000  more seeds (default 300)   WEFT_SIM_FROM=1000  first seed (default 1)
//   WEFT_SIM_SEED=1234         just that seed              WEFT_SIM_LOG=debug  PBFT logs (with one seed)
import { describe, expect, it } from 'vitest'
import { setLogLevel, type LogLevel } from '../../src/util/logger.ts'
import { Prng } from './prng.ts'
import { mixedFaultKinds, runScenario, type ScenarioReport } from './scenario.ts'

setLogLevel((process.env.WEFT_SIM_LOG as LogLevel | undefined) ?? 'silent')

const only = process.env.WEFT_SIM_SEED
const from = Number(only ?? process.env.WEFT_SIM_FROM ?? 1)
const count = only !== undefined ? 1 : Number(process.env.WEFT_SIM_MIXED_SEEDS ?? 300)
const chunk = 50
const chunks = Array.from({ length: Math.ceil(count / chunk) }, (_, i) => [from + i * chunk, Math.min(from + count, from + (i + 1) * chunk)] as const)

/** Which replicas follow Fabric's rules for a seed: 1, 2 or 3 of the 4, any of them. */
function fabricReplicasOf (seed: number): number[] {
  const prng = new Prng(seed ^ 0x5eed)
  const ids = [0, 1, 2, 3]
  for (let i = ids.length - 1; i > 0; i--) {
    const j = prng.int(i + 1)
    ;[ids[i], ids[j]] = [ids[j], ids[i]]
  }
  return ids.slice(0, 1 + seed % 3).sort()
}

// Periodic view change (viewchangeperiod) only without faults. Fabric's limit: a replica that
// fell behind catches up by state transfer only to a new view's base checkpoint or once it is L
// behind, and cannot execute what the others already checkpointed. With a view change every
// period, each new view's base is the checkpoint before the network's newest, so such a replica
// stays a period behind for as long as the network keeps cycling (Weft's early state transfer
// is what closes that gap).

const seen = new Map<string, number>()
let elapsed = 0
let ran = 0

function explain (r: ScenarioReport): string {
  return `seed ${r.seed} (${r.fault}) failed:\n  ${r.problems.join('\n  ')}\n${r.describe}\n` +
    `reproduce: WEFT_SIM_SEED=${r.seed} npx vitest run test/sim/pbft-mixed.test.ts (add WEFT_SIM_LOG=info for the replicas' logs)`
}

describe(`PBFT mixed Fabric-rules and Weft replicas, seeds ${from}..${from + count - 1}`, () => {
  it.each(chunks)('seeds %i..%i stay safe and live', async (lo, hi) => {
    const failures: string[] = []
    const t0 = performance.now()
    for (let seed = lo; seed < hi; seed++) {
      const fabric = fabricReplicasOf(seed)
      const fault = new Prng(seed).pick(mixedFaultKinds)
      const r = await runScenario(seed, { fabric, fault, periodicViewChange: fault === 'none' })
      const key = `${r.fault} ${fabric.length}+${4 - fabric.length}`
      seen.set(key, (seen.get(key) ?? 0) + 1)
      if (!r.ok) failures.push(explain(r))
    }
    elapsed += performance.now() - t0
    ran += hi - lo
    if (failures.length > 0) console.error(failures.join('\n\n'))
    expect(failures).toEqual([])
  }, 300_000)

  it('covered every kind of fault in every mix', () => {
    console.log(`${ran} seeds in ${(elapsed / 1000).toFixed(1)} s (${(elapsed / Math.max(1, ran)).toFixed(1)} ms/seed): ` +
      [...seen].sort().map(([k, n]) => `${k}: ${n}`).join(', '))
    if (ran >= 300) expect(new Set([...seen.keys()].map(k => k.split(' ')[0]))).toEqual(new Set(mixedFaultKinds))
  })
})
