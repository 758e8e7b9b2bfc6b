import { readFileSync } from 'node:fs'
import { create, fromBinary } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { fromHex } from '../../src/crypto/bytes.ts'
import { goJson, goQuote, goQuoteBytes } from '../../src/gojson/encode.ts'
import { goCamelCase } from '../../src/gojson/go-names.ts'
import { BlockSchema, BlockchainInfoSchema, PeerEndpoint_Type, PeerEndpointSchema, PeersMessageSchema } from '../../src/protos/fabric_pb.ts'
import { EventSchema } from '../../src/protos/events_pb.ts'

const vectors = (name: string): any => JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), 'utf8'))
const blockHash = vectors('block-hash.json')
const legacy = vectors('legacy-chain.json')

describe('goJson against block-hash.json', () => {
  for (const c of blockHash.cases) {
    it(c.name, () => {
      const text = goJson(BlockSchema, fromBinary(BlockSchema, fromHex(c.block_proto_hex)))
      // Same keys in the same order with the same values (the vector holds parsed JSON).
      expect(JSON.stringify(JSON.parse(text))).toBe(JSON.stringify(c.block_go_json))
    })
  }
})

describe('goJson against legacy-chain.json (exact REST bytes)', () => {
  for (const b of legacy.blocks) {
    it(`block ${b.number}`, () => {
      const block = fromBinary(BlockSchema, fromHex(b.block_proto_hex))
      expect(goJson(BlockSchema, block) + '\n').toBe(b.rest_json)
    })
  }
  it('GET /chain', () => {
    const last = legacy.blocks[legacy.blocks.length - 1]
    const info = create(BlockchainInfoSchema, {
      height: BigInt(legacy.height),
      currentBlockHash: fromHex(last.hash_hex),
      previousBlockHash: fromHex(last.previous_block_hash_hex)
    })
    expect(goJson(BlockchainInfoSchema, info) + '\n').toBe(legacy.chain_rest_json)
  })
})

describe('Go encoding rules', () => {
  it('escapes strings as encoding/json does', () => {
    expect(goQuote('a"b\\c\nd\re\tf')).toBe('"a\\"b\\\\c\\nd\\re\\tf"')
    expect(goQuote('<&>')).toBe('"\\u003c\\u0026\\u003e"')
    expect(goQuote('\b\f\u0001\u001f\u007f')).toBe('"\\u0008\\u000c\\u0001\\u001f\u007f"')
    expect(goQuote('\u2028\u2029é😀')).toBe('"\\u2028\\u2029é😀"')
    expect(goQuote('x\ud800y')).toBe('"x\ufffdy"')
  })

  it('writes uint64 beyond 2^53 exactly and omits zero values', () => {
    expect(goJson(BlockchainInfoSchema, create(BlockchainInfoSchema, { height: 18446744073709551615n }))).toBe('{"height":18446744073709551615}')
    expect(goJson(BlockchainInfoSchema, create(BlockchainInfoSchema))).toBe('{}')
  })

  it('renders PeersMessage as /network/peers does', () => {
    const peers = create(PeersMessageSchema, {
      peers: [create(PeerEndpointSchema, { ID: { name: 'vp0' }, address: '127.0.0.1:7051', type: PeerEndpoint_Type.VALIDATOR })]
    })
    expect(goJson(PeersMessageSchema, peers)).toBe('{"peers":[{"ID":{"name":"vp0"},"address":"127.0.0.1:7051","type":1}]}')
  })

  it('renders a oneof as Go does (wrapper struct, no omitempty)', () => {
    expect(goJson(EventSchema, create(EventSchema))).toBe('{"Event":null}')
    const ev = create(EventSchema, { Event: { case: 'chaincodeEvent', value: { chaincodeID: 'cc', payload: new Uint8Array([1]) } } })
    expect(goJson(EventSchema, ev)).toBe('{"Event":{"ChaincodeEvent":{"chaincodeID":"cc","payload":"AQ=="}}}')
  })

  it('names Go identifiers as protoc-gen-go does', () => {
    expect(goCamelCase('chaincodeEvent')).toBe('ChaincodeEvent')
    expect(goCamelCase('Event')).toBe('Event')
    expect(goCamelCase('view_change_pq')).toBe('ViewChangePq')
    expect(goCamelCase('_x')).toBe('XX')
    expect(goCamelCase('a_1b')).toBe('A_1B')
  })
})

describe('goQuoteBytes', () => {
  it('quotes bytes as Go quotes string(bytes): each invalid byte is \\ufffd', () => {
    expect(goQuoteBytes(new TextEncoder().encode('ok <é>'))).toBe('"ok \\u003cé\\u003e"')
    expect(goQuoteBytes(new Uint8Array([0x61, 0xff, 0xfe, 0x62]))).toBe('"a\\ufffd\\ufffdb"')
    expect(goQuoteBytes(new Uint8Array([0xe2, 0x82]))).toBe('"\\ufffd\\ufffd"') // a cut-short sequence
    expect(goQuoteBytes(new Uint8Array([0xed, 0xa0, 0x80]))).toBe('"\\ufffd\\ufffd\\ufffd"') // an encoded surrogate
    expect(goQuoteBytes(new Uint8Array([0xc0, 0xaf]))).toBe('"\\ufffd\\ufffd"') // overlong
    expect(goQuoteBytes(new Uint8Array([0xf0, 0x9f, 0x98, 0x80, 0x0a]))).toBe('"😀\\n"')
    for (let c = 0; c < 0x80; c++) expect([c, goQuoteBytes(new Uint8Array([0x61, c, 0x62]))]).toEqual([c, goQuote(`a${String.fromCharCode(c)}b`)])
  })
})
