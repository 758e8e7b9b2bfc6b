// A block is encoded once for both its hash and its stored bytes; those must be exactly what
// encoding it whole, and without nonHashData, give.
import { create, toBinary } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { toHex, utf8 } from '../../src/crypto/bytes.ts'
import { blockHash, encodeBlock } from '../../src/ledger/block.ts'
import { ChaincodeEventSchema } from '../../src/protos/chaincodeevent_pb.ts'
import { BlockSchema, NonHashDataSchema, TransactionSchema, type Block } from '../../src/protos/fabric_pb.ts'

function block (): Block {
  return create(BlockSchema, {
    version: 1,
    transactions: [1, 2, 3].map(i => create(TransactionSchema, { txid: `tx${i}`, chaincodeID: utf8('mycc'), payload: new Uint8Array(i * 50) })),
    stateHash: new Uint8Array(64).fill(7),
    previousBlockHash: new Uint8Array(64).fill(9),
    consensusMetadata: utf8('meta'),
    nonHashData: create(NonHashDataSchema, { chaincodeEvents: [create(ChaincodeEventSchema, { chaincodeID: 'mycc', eventName: 'e', payload: utf8('p') })] })
  })
}

describe('encodeBlock', () => {
  it('gives the whole block\'s bytes and the hash of it without nonHashData', () => {
    for (const b of [block(), { ...block(), nonHashData: undefined }, { ...block(), nonHashData: create(NonHashDataSchema) }]) {
      const { bytes, hash } = encodeBlock(b)
      expect(toHex(bytes)).toBe(toHex(toBinary(BlockSchema, b)))
      expect(toHex(hash)).toBe(toHex(blockHash(b)))
    }
  })

  it('keeps unknown fields where a whole encoding puts them', () => {
    const b = block()
    b.$unknown = [{ no: 99, wireType: 2, data: Uint8Array.of(2, 0xaa, 0xbb) }]
    expect(toHex(encodeBlock(b).bytes)).toBe(toHex(toBinary(BlockSchema, b)))
  })
})
