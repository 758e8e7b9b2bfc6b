// Mixed networks: replicas that follow Fabric 0.6.1's PBFT rules only next to Weft replicas,
// 1+3, 2+2 and 3+1 of N = 4, across the seeded faults of pbft-random.test.ts.
//   WEFT_SIM_MIXED_SEEDS=3000  more seeds (default 300); the others in seeded-suite.ts
import { Prng } from './prng.ts'
import { mixedFaultKinds, runScenario } from './scenario.ts'
import { seededSuite } from './seeded-suite.ts'

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

seededSuite({
  title: 'PBFT mixed Fabric-rules and Weft replicas',
  file: 'test/sim/pbft-mixed.test.ts',
  defaultCount: 300,
  countVar: 'WEFT_SIM_MIXED_SEEDS',
  run: async seed => {
    const fabric = fabricReplicasOf(seed)
    const fault = new Prng(seed).pick(mixedFaultKinds)
    const report = await runScenario(seed, { fabric, fault, periodicViewChange: fault === 'none' })
    return { report, kind: `${report.fault} ${fabric.length}+${4 - fabric.length}` }
  },
  coverage: { minRuns: 300, kinds: seen => [...new Set(seen.map(k => k.split(' ')[0]))], expected: [...mixedFaultKinds] }
})
