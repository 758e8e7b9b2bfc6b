import { describe, expect, it } from 'vitest'
import { RecentRejections } from '../../src/events/recent-rejections.ts'

describe('RecentRejections', () => {
  it('remembers each txid with its error and time, forgetting the oldest past capacity', () => {
    const r = new RecentRejections(3)
    r.record('a', 'no a', 1)
    r.record('b', 'no b', 2)
    r.record('c', 'no c', 3)
    // Rejected again: counts as the newest, so b goes first.
    r.record('a', 'no a again', 4)
    r.record('d', 'no d', 5)
    expect(r.get('b')).toBeUndefined()
    expect(r.get('a')).toEqual({ error: 'no a again', at: 4 })
    expect(r.get('c')).toEqual({ error: 'no c', at: 3 })
    expect(r.get('d')).toEqual({ error: 'no d', at: 5 })
    r.record('e', 'no e', 6)
    expect(r.get('c')).toBeUndefined()
  })
})
