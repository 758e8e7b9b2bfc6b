// Randomized PBFT runs: each seed picks a config, a network, client traffic and one fault (see
// scenario.ts) and must stay safe throughout and live once the fault heals.
//   WEFT_SIM_SEEDS=5000  more seeds (default 500); the others in seeded-suite.ts
import { faultKinds, runScenario } from './scenario.ts'
import { seededSuite } from './seeded-suite.ts'

seededSuite({
  title: 'PBFT randomized simulation',
  file: 'test/sim/pbft-random.test.ts',
  defaultCount: 500,
  countVar: 'WEFT_SIM_SEEDS',
  run: async seed => {
    const report = await runScenario(seed)
    return { report, kind: report.fault }
  },
  coverage: { minRuns: 200, kinds: seen => seen, expected: [...faultKinds] }
})
