import { BinaryWriter } from '@bufbuild/protobuf/wire'
import { describe, expect, it } from 'vitest'
import { toHex, utf8 } from '../../src/crypto/bytes.ts'
import { sortedStrings } from '../../src/ledger/keys.ts'
import { StateDelta } from '../../src/ledger/state-delta.ts'

/** Fabric's StateDelta.Marshal as its proto.Buffer calls write it: varint counts, varint-prefixed bytes, 0/1 value markers. */
function fabricMarshal (delta: StateDelta): Uint8Array {
  const w = new BinaryWriter()
  const ccs = sortedStrings(delta.chaincodes.keys())
  w.uint32(ccs.length)
  for (const cc of ccs) {
    const kvs = delta.chaincodes.get(cc)!
    w.bytes(utf8(cc)).uint32(kvs.size)
    for (const key of sortedStrings(kvs.keys())) {
      const u = kvs.get(key)!
      w.bytes(utf8(key))
      for (const v of [u.value, u.previousValue]) {
        if (v === null) w.uint32(0)
        else w.uint32(1).bytes(v)
      }
    }
  }
  return w.finish()
}

describe('StateDelta.marshal', () => {
  it('writes Fabric\'s bytes for ASCII and non-ASCII names, absent and long values, and reads them back', () => {
    const delta = new StateDelta()
    delta.set('mycc', 'b', utf8('20'), utf8('10'))
    delta.set('mycc', 'a', null, utf8('1'))
    delta.set('mycc', 'ü€😀', new Uint8Array(0), null)
    delta.set('mycc', 'lone\ud800', new Uint8Array(300).fill(7), null)
    delta.set('këy cc', 'x'.repeat(200), utf8('v'), null)
    delta.set('', 'empty cc', utf8('e'), utf8('f'))
    const bytes = delta.marshal()
    expect(toHex(bytes)).toBe(toHex(fabricMarshal(delta)))
    const back = StateDelta.unmarshal(bytes)
    expect(toHex(back.marshal())).toBe(toHex(bytes))
    expect(back.get('mycc', 'a')).toEqual({ value: null, previousValue: utf8('1') })
  })

  it('writes an empty delta as a zero count', () => {
    expect(toHex(new StateDelta().marshal())).toBe('00')
  })
})
