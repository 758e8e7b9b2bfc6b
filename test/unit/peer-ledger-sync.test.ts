// Ledger.commitSyncedBlock: a block from another peer and the state it leads to, in one write.
import { describe, expect, it } from 'vitest'
import { concatBytes, toHex, utf8 } from '../../src/crypto/bytes.ts'
import { blockHash } from '../../src/ledger/block.ts'
import { encodeUint64 } from '../../src/ledger/keys.ts'
import { Ledger, type SyncedBlock } from '../../src/ledger/ledger.ts'
import { StateDelta } from '../../src/ledger/state-delta.ts'
import { memoryStore, type KVStore } from '../../src/storage/index.ts'
import { commitBlocks, ledgerOptions, newLedger } from '../integration/peer-helpers.ts'

async function countingLedger (): Promise<{ ledger: Ledger, store: KVStore, writes: () => number }> {
  const store = await memoryStore()
  let n = 0
  const counted: KVStore = { ...store, location: store.location, get: k => store.get(k), entries: r => store.entries(r), close: () => store.close(), write: async ops => { n++; await store.write(ops) } }
  const ledger = await Ledger.open(counted, ledgerOptions)
  ledger.beginTxBatch(0)
  await ledger.commitTxBatch(0, [], undefined)
  return { ledger, store: counted, writes: () => n }
}

describe('Ledger.commitSyncedBlock', () => {
  it('writes the block, its state and its delta in one store write; the ledger reopens consistent', async () => {
    const source = await newLedger()
    await commitBlocks(source, 2)
    const { ledger, store, writes } = await countingLedger()
    const seen: number[] = []
    ledger.onBlock(b => seen.push(b.number))
    for (const n of [1, 2]) {
      const before = writes()
      ledger.applyStateDelta('sync', (await source.getStateDelta(n))!)
      await ledger.commitSyncedBlock('sync', n, (await source.getBlockByNumber(n))!, true)
      expect(writes() - before).toBe(1)
    }
    expect(seen).toEqual([1, 2])
    expect(ledger.height).toBe(3)
    expect(ledger.stateBlockNumber).toBe(2)
    expect((await ledger.getStateDelta(2))!.marshal()).toEqual((await source.getStateDelta(2))!.marshal())
    expect(toHex((await ledger.getBlockchainInfo()).currentBlockHash)).toBe(toHex((await source.getBlockchainInfo()).currentBlockHash))
    const reopened = await Ledger.open(store, ledgerOptions)
    expect(reopened.stateBlockNumber).toBe(2)
    expect(toHex((await reopened.getState('mycc', 'k2', true))!)).toBe(toHex(utf8('v2')))
  })

  it('refuses a state that does not hash to the block\'s stateHash, writes nothing and drops the delta', async () => {
    const source = await newLedger()
    await commitBlocks(source, 1)
    const { ledger, writes } = await countingLedger()
    const wrong = new StateDelta()
    wrong.set('mycc', 'k1', utf8('forged'), null)
    const before = writes()
    ledger.applyStateDelta('sync', wrong)
    await expect(ledger.commitSyncedBlock('sync', 1, (await source.getBlockByNumber(1))!, true)).rejects.toThrow(/state hash [0-9a-f]+ after the applied delta differs from block 1's [0-9a-f]+/)
    expect(writes()).toBe(before)
    expect(ledger.height).toBe(1)
    expect(await ledger.getState('mycc', 'k1', false)).toBeNull()
    ledger.beginTxBatch('next') // no batch left in progress
    ledger.rollbackTxBatch('next')
  })

  it('refuses a block past the end of the chain, and a batch id that is not in progress', async () => {
    const source = await newLedger()
    await commitBlocks(source, 3)
    const { ledger } = await countingLedger()
    ledger.applyStateDelta('sync', (await source.getStateDelta(1))!)
    await expect(ledger.commitSyncedBlock('sync', 3, (await source.getBlockByNumber(3))!, true)).rejects.toThrow('cannot store synced block 3: the chain has height 1')
    await expect(ledger.commitSyncedBlock('other', 1, (await source.getBlockByNumber(1))!, true)).rejects.toThrow(/batch other is not the one in progress/)
  })

  it('without recordDelta (a snapshot) the state is adopted but no delta is kept for the block', async () => {
    const source = await newLedger()
    await commitBlocks(source, 4)
    const { ledger } = await countingLedger()
    const state = new StateDelta()
    for await (const [k, v] of source.rangeScan('mycc', '', '', true)) state.set('mycc', k, v, null)
    for (const n of [1, 2, 3]) await ledger.putRawBlock((await source.getBlockByNumber(n))!, n)
    ledger.applyStateDelta('snap', state)
    await ledger.commitSyncedBlock('snap', 4, (await source.getBlockByNumber(4))!, false)
    expect(ledger.stateBlockNumber).toBe(4)
    expect(await ledger.getStateDelta(4)).toBeUndefined()
    expect(await ledger.verifyChain(4, 0)).toBe(0)
  })

  it('staged blocks stay out of the chain until a commit takes them in with the state above them, in one write', async () => {
    const source = await newLedger()
    await commitBlocks(source, 4)
    const { ledger, writes } = await countingLedger()
    const below = await Promise.all([1, 2, 3].map(async n => await synced(source, n)))
    await ledger.stageSyncedBlocks(below.slice(0, 2))
    expect(ledger.height).toBe(1)
    expect(await ledger.getBlockByNumber(1)).toBeUndefined()
    expect(await ledger.getBlockByHash(below[0].hash)).toBeUndefined()
    expect(await ledger.getTransactionByID(below[0].block.transactions[0].txid)).toBeUndefined()
    expect(await ledger.hasTransactions([below[0].block.transactions[0].txid])).toEqual([false])
    const seen: number[] = []
    ledger.onBlock(b => seen.push(b.number))
    const state = new StateDelta()
    for await (const [k, v] of source.rangeScan('mycc', '', '', true)) state.set('mycc', k, v, null)
    const before = writes()
    ledger.applyStateDelta('snap', state)
    await ledger.commitSyncedBlock('snap', 4, (await source.getBlockByNumber(4))!, false, below)
    expect(writes() - before).toBe(1)
    expect(seen).toEqual([1, 2, 3, 4])
    expect(ledger.height).toBe(5)
    expect(await ledger.verifyChain(4, 0)).toBe(0)
    for (const b of below) expect((await ledger.getTransactionByID(b.block.transactions[0].txid))?.txid).toBe(b.block.transactions[0].txid)
    expect(await ledger.hasTransactions(below.map(b => b.block.transactions[0].txid))).toEqual([true, true, true])
    expect((await ledger.getBlockByHash(below[0].hash))?.transactions[0].txid).toBe(below[0].block.transactions[0].txid)
  })

  it('removes blocks staged and never committed, with their index entries: when told, and on reopening', async () => {
    const source = await newLedger()
    await commitBlocks(source, 3)
    const { ledger, store } = await countingLedger()
    const staged = await Promise.all([1, 2, 3].map(async n => await synced(source, n)))
    const stored = async (): Promise<number> => {
      let n = 0
      for (const b of staged) {
        if (await ledger.cols.blockchain.get(encodeUint64(b.number)) !== undefined) n++
        if (await ledger.cols.indexes.get(concatBytes(Uint8Array.of(2), utf8(b.block.transactions[0].txid))) !== undefined) n++
      }
      return n
    }
    await ledger.stageSyncedBlocks(staged)
    expect(await stored()).toBe(6)
    await ledger.discardStagedBlocks()
    expect(await stored()).toBe(0)
    await ledger.stageSyncedBlocks(staged)
    const reopened = await Ledger.open(store, ledgerOptions)
    expect(await stored()).toBe(0)
    expect(reopened.height).toBe(1)
    expect(await reopened.getBlockByNumber(0)).toBeDefined()
  })
})

async function synced (source: Ledger, n: number): Promise<SyncedBlock> {
  const block = (await source.getBlockByNumber(n))!
  return { number: n, block, hash: blockHash(block) }
}
