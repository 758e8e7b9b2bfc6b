import { describe, expect, it } from 'vitest'
import { messageShape, repeatLimiter } from '../../src/util/log-repeats.ts'
import { createLogger } from '../../src/util/logger.ts'
import { VirtualScheduler } from '../sim/scheduler.ts'
import { captureLogs } from '../helpers/logs.ts'

const stale = (replica: number, from: number): string => `Replica ${replica} ignoring request from replica ${from} as it is too old`

describe('repeatLimiter', () => {
  it('prints one line of a shape per interval and counts the rest on the next', () => {
    const clock = new VirtualScheduler()
    const limiter = repeatLimiter(() => clock.now(), 10_000)
    expect(limiter.admit('pbft', stale(0, 1))).toBe(stale(0, 1))
    for (let i = 0; i < 653; i++) {
      clock.advance(10)
      expect(limiter.admit('pbft', stale(0, i % 4))).toBeUndefined()
    }
    clock.advance(10_000 - 6530)
    expect(limiter.admit('pbft', stale(0, 2))).toBe(`${stale(0, 2)} (and 653 more like this in the last 10 s)`)
    // The count starts again after each printed line.
    clock.advance(10_000)
    expect(limiter.admit('pbft', stale(0, 3))).toBe(stale(0, 3))
  })

  it('keeps shapes and loggers apart', () => {
    const clock = new VirtualScheduler()
    const limiter = repeatLimiter(() => clock.now(), 10_000)
    expect(limiter.admit('pbft', stale(0, 1))).toBeDefined()
    expect(limiter.admit('pbft', 'broadcast: connection reset')).toBeDefined()
    expect(limiter.admit('peer', stale(0, 1))).toBeDefined()
    expect(limiter.admit('pbft', 'broadcast: connection reset')).toBeUndefined()
  })

  it('masks numbers, hex and ids, nothing else', () => {
    expect(messageShape('tx 0b5e3c1a-9f2d-4c8e-8a1b-2d3e4f5a6b7c rejected at block 12 by vp3 (hash 9f86d081884c7d65)'))
      .toBe('tx <id> rejected at block # by vp# (hash <hex>)')
    expect(messageShape('deadline exceeded')).toBe('deadline exceeded')
  })
})

describe('createLogger', () => {
  it('holds back a repeated warning but never an error', () => {
    const logs = captureLogs()
    try {
      const log = createLogger('log-repeats-test')
      for (let i = 0; i < 5; i++) log.warn(`peer 127.0.0.${i} refused`)
      for (let i = 0; i < 3; i++) log.error(`store failed at ${i}`)
      expect(logs.lines.map(l => l.level)).toEqual(['warn', 'error', 'error', 'error'])
    } finally {
      logs.restore()
    }
  })
})
