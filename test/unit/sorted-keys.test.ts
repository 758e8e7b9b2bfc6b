import { describe, expect, it } from 'vitest'
import { binaryKey, SortedKeys } from '../../src/storage/sorted-keys.ts'
import { randomInt, seededRandom } from '../../src/util/scheduler.ts'

describe('SortedKeys', () => {
  it('answers every range, forward and reverse, with limits, as a sorted array does', () => {
    const random = seededRandom(7)
    const keys = new SortedKeys(4) // small chunks: splits and emptied chunks happen often
    const model = new Set<string>()
    const word = (): string => binaryKey(Uint8Array.from({ length: randomInt(random, 3) + 1 }, () => randomInt(random, 6) * 50))
    for (let round = 0; round < 3000; round++) {
      const k = word()
      if (model.has(k)) { keys.remove(k); model.delete(k) } else { keys.insert(k); model.add(k) }
      if (round % 10 !== 0) continue
      const all = [...model].sort()
      expect(keys.size).toBe(all.length)
      const lo = random() < 0.2 ? undefined : word()
      const hi = random() < 0.2 ? undefined : word()
      const loOpen = random() < 0.5
      const hiOpen = random() < 0.5
      const reverse = random() < 0.5
      const limit = random() < 0.5 ? Infinity : randomInt(random, 5)
      let want = all.filter(x => (lo === undefined || (loOpen ? x > lo : x >= lo)) && (hi === undefined || (hiOpen ? x < hi : x <= hi)))
      if (reverse) want = want.reverse()
      expect(keys.range(lo, loOpen, hi, hiOpen, reverse, limit)).toEqual(want.slice(0, limit))
    }
  })

  it('binary keys sort as their bytes, 0x00 to 0xff', () => {
    const bytes = [[0xff], [0x00], [0x7f, 0x01], [0x80], [0x7f], []].map(b => Uint8Array.from(b))
    const sorted = bytes.map(binaryKey).sort()
    expect(sorted.map(s => Array.from(s, c => c.charCodeAt(0)))).toEqual([[], [0x00], [0x7f], [0x7f, 0x01], [0x80], [0xff]])
  })
})
