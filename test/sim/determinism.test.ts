// A simulated run is a pure function of its seed: run twice, every fault kind gives the same
// chain on every replica after the same number of steps, so any failure replays exactly.
import { describe, expect, it } from 'vitest'
import { setLogLevel } from '../../src/util/logger.ts'
import { faultKinds, runScenario } from './scenario.ts'

setLogLevel('silent')

describe('PBFT simulation determinism', () => {
  it.each(faultKinds)('%s: one seed, one run', async fault => {
    const fabric = fault === 'none' ? [1] : undefined
    const first = await runScenario(7, { fault, fabric })
    const second = await runScenario(7, { fault, fabric })
    expect(first.problems).toEqual([])
    expect(first.heads.filter(h => h !== '').length).toBeGreaterThan(0)
    expect({ heads: second.heads, steps: second.steps, virtualMs: second.virtualMs, requests: second.requests })
      .toEqual({ heads: first.heads, steps: first.steps, virtualMs: first.virtualMs, requests: first.requests })
  })
})
