import { readFileSync } from 'node:fs'
import { fromBinary, toBinary } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { fromHex, toHex } from '../../src/crypto/bytes.ts'
import { BlockSchema } from '../../src/protos/fabric_pb.ts'
import { replayLegacyChain, type LegacyChainVector } from '../../src/chaincode/replay.ts'

const load = (): LegacyChainVector => JSON.parse(readFileSync(new URL('../vectors/legacy-chain.json', import.meta.url), 'utf8')) as LegacyChainVector

describe('legacy chain replay (real Fabric 0.6.1 chain, example02 in dev mode)', () => {
  it('reproduces every block hash, state hash, delta and the final state', async () => {
    const vector = load()
    const r = await replayLegacyChain(vector)
    expect(r.blocks.flatMap(b => b.problems)).toEqual([])
    expect(r.finalStateProblems).toEqual([])
    expect(r.blocks.map(b => b.hash)).toEqual(vector.blocks.map(b => b.hash_hex))
    expect(r.blocks.map(b => b.stateHash)).toEqual(vector.blocks.map(b => b.state_hash_hex ?? ''))
    expect(r.blocks.reduce((n, b) => n + b.transactions, 0)).toBe(21)
    expect(r.ok).toBe(true)
  })

  it('notices a transaction that differs from the recorded chain, and every block after it', async () => {
    const vector = load()
    const b2 = vector.blocks[2]
    const block = fromBinary(BlockSchema, fromHex(b2.block_proto_hex))
    block.transactions[0].timestamp!.nanos += 1
    b2.block_proto_hex = toHex(toBinary(BlockSchema, block))
    const r = await replayLegacyChain(vector)
    expect(r.ok).toBe(false)
    expect(r.blocks.slice(0, 2).every(b => b.ok)).toBe(true)
    expect(r.blocks[2].problems.join()).toMatch(/block hash/)
    expect(r.blocks[2].stateHash).toBe(b2.state_hash_hex)
    expect(r.blocks[3].problems.join()).toMatch(/block hash/)
  })

  it('refuses a chain whose chaincode it has no port of', async () => {
    const vector = load()
    vector.chaincodes[0].source = 'examples/chaincode/go/asset_management'
    await expect(replayLegacyChain(vector)).rejects.toThrow(/no JS port/)
  })
})
