import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fromHex, toHex, utf8, fromUtf8 } from '../../src/crypto/bytes.ts'
import { blockHash } from '../../src/ledger/block.ts'
import { Ledger, makeGenesis } from '../../src/ledger/ledger.ts'
import { StateDelta } from '../../src/ledger/state-delta.ts'
import { ChaincodeEventSchema } from '../../src/protos/chaincodeevent_pb.ts'
import { BlockSchema, TransactionResultSchema, TransactionSchema } from '../../src/protos/fabric_pb.ts'
import { memoryStore } from '../../src/storage/memory.ts'
import type { Scheduler } from '../../src/util/scheduler.ts'

const vectors = JSON.parse(readFileSync(new URL('../vectors/block-hash.json', import.meta.url), 'utf8')) as { cases: { name: string, block_proto_hex: string, hash_hex: string }[] }
const vector = (name: string) => vectors.cases.find(c => c.name === name)!
const vectorBlock = (name: string) => fromBinary(BlockSchema, fromHex(vector(name).block_proto_hex))

const fixedClock: Pick<Scheduler, 'now'> = { now: () => 1_700_000_000_000 }

async function freshLedger (options = {}) {
  return Ledger.open(await memoryStore(), { scheduler: fixedClock, ...options })
}

async function put (ledger: Ledger, txid: string, writes: Record<string, string | null>, ok = true) {
  ledger.txBegin(txid)
  for (const [k, v] of Object.entries(writes)) {
    if (v === null) await ledger.deleteState('mycc', k)
    else await ledger.setState('mycc', k, utf8(v))
  }
  ledger.txFinished(txid, ok)
}

describe('ledger', () => {
  it('commits the blocks Fabric\'s own ledger committed, byte for byte but for the commit time', async () => {
    const ledger = await freshLedger()
    await makeGenesis(ledger)
    const b0 = (await ledger.getBlockByNumber(0))!
    expect(toHex(blockHash(b0))).toBe(vector('real_ledger_block_0').hash_hex)

    const want1 = vectorBlock('real_ledger_block_1')
    ledger.beginTxBatch(1)
    await put(ledger, 'mycc', { a: '100', b: '200' })
    const r1 = await ledger.commitTxBatch(1, want1.transactions, [create(TransactionResultSchema, { txid: 'mycc' })])
    r1.block.nonHashData!.localLedgerCommitTimestamp = want1.nonHashData!.localLedgerCommitTimestamp
    expect(toHex(toBinary(BlockSchema, r1.block))).toBe(vector('real_ledger_block_1').block_proto_hex)
    expect(toHex(r1.hash)).toBe(vector('real_ledger_block_1').hash_hex)

    // Block 2: three transactions, the second fails; its writes vanish but it keeps an (empty) event slot.
    const want2 = vectorBlock('real_ledger_block_2')
    const [t1, t3] = want2.transactions
    ledger.beginTxBatch(2)
    await put(ledger, t1.txid, { a: '90', b: '210' })
    await put(ledger, 'failed', { a: '0', zzz: 'junk' }, false)
    await put(ledger, t3.txid, { b: '205', a: '95' })
    const event = create(ChaincodeEventSchema, { chaincodeID: 'mycc', txID: t3.txid, eventName: 'transfer', payload: utf8('5') })
    const results = [t1.txid, 'failed', t3.txid].map((txid, i) => create(TransactionResultSchema, { txid, chaincodeEvent: i === 2 ? event : undefined }))
    const r2 = await ledger.commitTxBatch(2, [t1, t3], results, utf8('noops-metadata'))
    r2.block.nonHashData!.localLedgerCommitTimestamp = want2.nonHashData!.localLedgerCommitTimestamp
    expect(toHex(toBinary(BlockSchema, r2.block))).toBe(vector('real_ledger_block_2').block_proto_hex)
    expect(toHex(r2.hash)).toBe(vector('real_ledger_block_2').hash_hex)
    expect(await ledger.getState('mycc', 'zzz', true)).toBeNull()

    const info = await ledger.getBlockchainInfo()
    expect(info.height).toBe(3n)
    expect(toHex(info.currentBlockHash)).toBe(vector('real_ledger_block_2').hash_hex)
    expect(toHex(info.previousBlockHash)).toBe(vector('real_ledger_block_1').hash_hex)
    expect((await ledger.getBlockByHash(r1.hash))?.transactions[0].txid).toBe('mycc')
    expect((await ledger.getTransactionByID(t3.txid))?.txid).toBe(t3.txid)
    expect(await ledger.getTransactionByID('failed')).toBeUndefined()
    expect(await ledger.getBlockByNumber(3)).toBeUndefined()
    expect(await ledger.verifyChain(2, 0)).toBe(0)
  })

  it('reads its own writes: transaction over batch over committed, and drops a rolled-back batch', async () => {
    const ledger = await freshLedger()
    ledger.beginTxBatch('a')
    await put(ledger, 't1', { k: 'committed' })
    await ledger.commitTxBatch('a', [], undefined)
    const committedHash = await ledger.getTempStateHash()

    ledger.beginTxBatch('b')
    await put(ledger, 't2', { k: 'batch' })
    ledger.txBegin('t3')
    await ledger.setState('mycc', 'k', utf8('tx'))
    expect(fromUtf8((await ledger.getState('mycc', 'k', false))!)).toBe('tx')
    expect(fromUtf8((await ledger.getState('mycc', 'k', true))!)).toBe('committed')
    ledger.txFinished('t3', false)
    expect(fromUtf8((await ledger.getState('mycc', 'k', false))!)).toBe('batch')
    expect(toHex((await ledger.getTempStateHash())!)).not.toBe(toHex(committedHash!))
    ledger.rollbackTxBatch('b')
    expect(fromUtf8((await ledger.getState('mycc', 'k', false))!)).toBe('committed')
    expect(toHex((await ledger.getTempStateHash())!)).toBe(toHex(committedHash!))
    expect(ledger.height).toBe(1)
  })

  it('reads a hot committed key from the store once, and sees every commit, rollback and state transfer', async () => {
    const store = await memoryStore()
    let reads = 0
    const counting = { ...store, get: async (k: Uint8Array) => { reads++; return await store.get(k) } }
    const ledger = await Ledger.open(counting, { numBuckets: 19, maxGroupingAtEachLevel: 3 })
    await makeGenesis(ledger)
    const commit = async (id: string, key: string, value: string): Promise<void> => {
      ledger.beginTxBatch(id)
      ledger.txBegin(id)
      await ledger.setState('cc', key, utf8(value))
      ledger.txFinished(id, true)
      await ledger.commitTxBatch(id, [], undefined)
    }
    await commit('b1', 'a', '1')
    const before = reads
    for (let i = 0; i < 5; i++) expect(fromUtf8((await ledger.getState('cc', 'a', true))!)).toBe('1')
    expect(reads).toBe(before)
    // A caller that changes what it was given changes nothing for the next reader.
    ;(await ledger.getState('cc', 'a', true))!.fill(0)
    expect(fromUtf8((await ledger.getState('cc', 'a', true))!)).toBe('1')
    await commit('b2', 'a', '2')
    expect(fromUtf8((await ledger.getState('cc', 'a', true))!)).toBe('2')
    // What was read from the cache is what the store holds.
    const reopened = await Ledger.open(store, { numBuckets: 19, maxGroupingAtEachLevel: 3 })
    expect(fromUtf8((await reopened.getState('cc', 'a', true))!)).toBe('2')
    ledger.beginTxBatch('b3')
    ledger.txBegin('b3')
    await ledger.setState('cc', 'a', utf8('3'))
    ledger.txFinished('b3', true)
    ledger.rollbackTxBatch('b3')
    expect(fromUtf8((await ledger.getState('cc', 'a', true))!)).toBe('2')
    // State transfer: a delta applied and committed is what the next read sees.
    const delta = new StateDelta()
    delta.set('cc', 'a', utf8('9'), utf8('2'))
    ledger.applyStateDelta('st', delta)
    await ledger.commitStateDelta('st', 3)
    expect(fromUtf8((await ledger.getState('cc', 'a', true))!)).toBe('9')
  })

  it('refuses writes outside a transaction, a second batch, and a wrong batch id', async () => {
    const ledger = await freshLedger()
    await expect(ledger.setState('mycc', 'k', utf8('v'))).rejects.toThrow(/inside a transaction/)
    ledger.beginTxBatch(1)
    expect(() => ledger.beginTxBatch(2)).toThrow(/another batch/)
    await expect(ledger.commitTxBatch(2, [], undefined)).rejects.toThrow(/not the one in progress/)
    ledger.txBegin('t')
    await expect(ledger.setState('mycc', '', utf8('v'))).rejects.toThrow(/empty key/)
  })

  it('scans uncommitted state as Fabric does: transaction keys, then batch keys, then committed ones', async () => {
    const ledger = await freshLedger({ numBuckets: 19, maxGroupingAtEachLevel: 3 })
    ledger.beginTxBatch(0)
    await put(ledger, 't0', { c1: 'x', c2: 'x', c3: 'x', gone: 'x' })
    await ledger.commitTxBatch(0, [], undefined)
    ledger.beginTxBatch(1)
    await put(ledger, 't1', { b2: 'batch', c2: 'batch', b1: 'batch' })
    ledger.txBegin('t2')
    await ledger.setState('mycc', 'a1', utf8('tx'))
    await ledger.setState('mycc', 'c3', utf8('tx'))
    await ledger.deleteState('mycc', 'gone')
    const seen: string[] = []
    for await (const [k, v] of ledger.rangeScan('mycc', 'a', 'z', false)) seen.push(`${k}=${fromUtf8(v)}`)
    expect(seen.slice(0, 2)).toEqual(['a1=tx', 'c3=tx'])
    expect(seen.slice(2, 5)).toEqual(['b1=batch', 'b2=batch', 'c2=batch'])
    expect(seen.slice(5)).toEqual(['c1=x'])
    const committed: string[] = []
    for await (const [k] of ledger.rangeScan('mycc', 'c2', '', true)) committed.push(k)
    expect(committed.sort()).toEqual(['c2', 'c3', 'gone'])
  })

  it('keeps deltas for deltaHistorySize blocks, and they replay onto a fresh ledger (state transfer)', async () => {
    const source = await freshLedger({ deltaHistorySize: 3 })
    const hashes: string[] = []
    for (let i = 0; i < 6; i++) {
      source.beginTxBatch(i)
      await put(source, `t${i}`, { [`k${i}`]: `v${i}`, k0: `again${i}`, ...(i === 4 ? { k1: null } : {}) })
      hashes.push(toHex((await source.commitTxBatch(i, [], undefined)).block.stateHash))
    }
    expect(await source.getStateDelta(2)).toBeUndefined()
    expect(await source.getStateDelta(3)).toBeDefined()
    expect(await source.getStateDelta(6)).toBeUndefined()

    // Replay the deltas of a ledger that still has them all onto an empty one.
    const full = await freshLedger()
    const keeper = await freshLedger()
    for (let i = 0; i < 6; i++) {
      keeper.beginTxBatch(i)
      await put(keeper, `t${i}`, { [`k${i}`]: `v${i}`, k0: `again${i}`, ...(i === 4 ? { k1: null } : {}) })
      await keeper.commitTxBatch(i, [], undefined)
    }
    for (let i = 0; i < 6; i++) {
      full.applyStateDelta(i, (await keeper.getStateDelta(i))!)
      expect(toHex((await full.getTempStateHash())!)).toBe(hashes[i])
      await full.commitStateDelta(i, i)
    }
    // And the inverse delta takes the state back one block.
    full.applyStateDelta('back', (await keeper.getStateDelta(5))!.inverse())
    expect(toHex((await full.getTempStateHash())!)).toBe(hashes[4])
    full.rollbackStateDelta('back')
    expect(toHex((await full.getTempStateHash())!)).toBe(hashes[5])
  })

  it('detects a state that does not match its block when reopened', async () => {
    const store = await memoryStore()
    const ledger = await Ledger.open(store, { scheduler: fixedClock })
    ledger.beginTxBatch(0)
    await put(ledger, 't', { a: '1' })
    await ledger.commitTxBatch(0, [], undefined)
    await expect(Ledger.open(store)).resolves.toBeInstanceOf(Ledger)
    // Tamper: write a state entry behind the ledger's back.
    ledger.applyStateDelta('x', (await ledger.getStateDelta(0))!.inverse())
    await ledger.commitStateDelta('x', 0)
    await expect(Ledger.open(store)).rejects.toThrow(/corrupt: state hash/)
  })

  it('snapshots the whole committed state with the block it belongs to', async () => {
    const ledger = await freshLedger()
    await makeGenesis(ledger)
    ledger.beginTxBatch(1)
    await put(ledger, 't', { a: '1', b: '2' })
    await ledger.commitTxBatch(1, [], undefined)
    ledger.beginTxBatch(2)
    await put(ledger, 'u', { a: null, c: '3' })
    const snap = await ledger.stateSnapshot().catch((e: Error) => e)
    expect(snap).toBeInstanceOf(Error)
    await ledger.commitTxBatch(2, [], undefined)
    const { blockNumber, entries } = await ledger.stateSnapshot()
    expect(blockNumber).toBe(2)
    expect(entries.map(([k, v]) => `${fromUtf8(k).replace('\0', '/')}=${fromUtf8(v)}`).sort()).toEqual(['mycc/b=2', 'mycc/c=3'])
  })

  it('verifyChain finds where a chain stops linking', async () => {
    const ledger = await freshLedger()
    await makeGenesis(ledger)
    for (let i = 1; i <= 4; i++) {
      ledger.beginTxBatch(i)
      await put(ledger, `t${i}`, { k: String(i) })
      await ledger.commitTxBatch(i, [], undefined)
    }
    expect(await ledger.verifyChain(4, 0)).toBe(0)
    const forged = (await ledger.getBlockByNumber(2))!
    forged.consensusMetadata = utf8('forged')
    await ledger.putRawBlock(forged, 2)
    expect(await ledger.verifyChain(4, 0)).toBe(3)
  })
})

describe('transaction index', () => {
  it('finds every transaction of a block by its id, ASCII or not', async () => {
    const ledger = await freshLedger()
    await makeGenesis(ledger)
    const ids = ['plain-id', 'ünïcode-✓', '😀', 'x'.repeat(300)]
    ledger.beginTxBatch(1)
    await ledger.commitTxBatch(1, ids.map(txid => create(TransactionSchema, { txid })), undefined)
    for (const txid of ids) expect((await ledger.getTransactionByID(txid))?.txid).toBe(txid)
    expect(await ledger.getTransactionByID('ünïcode')).toBeUndefined()
    expect(await ledger.hasTransactions(['ünïcode', ...ids, 'plain'])).toEqual([false, true, true, true, true, false])
  })
})

describe('compareStrings', () => {
  it('orders as UTF-8 bytes do (Go string order)', async () => {
    const { compareStrings } = await import('../../src/ledger/keys.ts')
    const { compareBytes } = await import('../../src/crypto/bytes.ts')
    const words = ['', 'a', 'ab', 'b', 'Z', '\u0000', '\u007f', '\u0080', 'é', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uffff', '\u{10000}', '\u{1f600}', '\u{10ffff}', 'a\u{1f600}', 'a\uffff']
    for (const x of words) {
      for (const y of words) expect(Math.sign(compareStrings(x, y))).toBe(Math.sign(compareBytes(utf8(x), utf8(y))))
    }
  })
})
