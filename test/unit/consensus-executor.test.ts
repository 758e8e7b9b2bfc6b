// The executor (Fabric's consensus/executor) and noops (consensus/noops) over a real ledger.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { fromUtf8, utf8 } from '../../src/crypto/bytes.ts'
import { ConsensusExecutor } from '../../src/consensus/executor.ts'
import { StateTransferError, type ExecutionConsumer, type StateTransfer, type TxExecutor } from '../../src/consensus/interfaces.ts'
import { Noops } from '../../src/consensus/noops/noops.ts'
import { handle } from '../../src/consensus/validators.ts'
import { ConsensusHelper } from '../../src/consensus/helper.ts'
import { Ledger, makeGenesis } from '../../src/ledger/ledger.ts'
import { StateDelta } from '../../src/ledger/state-delta.ts'
import {
  BlockStateSchema, MessageSchema, Message_Type, PeerEndpoint_Type, TransactionBlockSchema, TransactionSchema,
  type BlockchainInfo, type Message, type Transaction
} from '../../src/protos/fabric_pb.ts'
import { memoryStore } from '../../src/storage/index.ts'
import { setLogLevel } from '../../src/util/logger.ts'
import { testExecutor } from './kv-executor.ts'
import { VirtualScheduler } from '../sim/scheduler.ts'

setLogLevel('silent')

const tx = (txid: string, payload = `${txid}=1`): Transaction => create(TransactionSchema, { txid, payload: utf8(payload) })

async function openLedger (sched: VirtualScheduler): Promise<Ledger> {
  const ledger = await Ledger.open(await memoryStore(), { numBuckets: 19, maxGroupingAtEachLevel: 3, scheduler: sched })
  await makeGenesis(ledger)
  return ledger
}

function recorder (): ExecutionConsumer & { log: string[] } {
  const log: string[] = []
  return {
    log,
    executed: t => log.push(`executed ${String(t)}`),
    committed: (t, info) => log.push(`committed ${String(t)} h${info.height}`),
    rolledBack: t => log.push(`rolledBack ${String(t)}`),
    stateUpdated: (t, info) => log.push(`stateUpdated ${String(t)} ${info === undefined ? 'failed' : `h${info.height}`}`),
    executionFailed: (t, err) => log.push(`failed ${String(t)}: ${err.message}`)
  }
}

async function setup (opts: { execute?: TxExecutor, stateTransfer?: StateTransfer, queueSize?: number } = {}) {
  const sched = new VirtualScheduler()
  const ledger = await openLedger(sched)
  const consumer = recorder()
  const ex = new ConsensusExecutor({ queueSize: opts.queueSize, stateTransferRetryMs: 100, stateTransferAttempts: 3 }, {
    ledger, executeTransactions: opts.execute ?? testExecutor(() => ledger), stateTransfer: opts.stateTransfer ?? { syncToTarget: async () => {} }, consumer, scheduler: sched
  })
  ex.start()
  return { sched, ledger, consumer, ex }
}

const info = (height: number): BlockchainInfo => ({ height: BigInt(height), currentBlockHash: utf8('h') } as BlockchainInfo)

describe('ConsensusExecutor', () => {
  it('executes into one batch until commit, then writes one block with the metadata', async () => {
    const { sched, ledger, consumer, ex } = await setup()
    ex.execute('a', [tx('t1')])
    ex.execute('b', [tx('t2'), tx('bad', 'no equals sign')])
    ex.commit('c', utf8('meta'))
    await sched.runFor(1)
    expect(consumer.log).toEqual(['executed a', 'executed b', 'committed c h2'])
    const block = (await ledger.getBlockByNumber(1))!
    expect(block.transactions.map(t => t.txid)).toEqual(['t1', 't2'])
    expect(block.nonHashData?.chaincodeEvents).toHaveLength(3)
    expect(fromUtf8(block.consensusMetadata)).toBe('meta')
  })

  it('rolls back: the state is as before', async () => {
    const { sched, ledger, consumer, ex } = await setup()
    ex.execute('a', [tx('t1')])
    ex.rollback('r')
    await sched.runFor(1)
    expect(consumer.log).toEqual(['executed a', 'rolledBack r'])
    expect(await ledger.getState('sim', 't1', false)).toBeNull()
    expect(ledger.height).toBe(1)
  })

  it('a transaction already on the chain is not run again', async () => {
    const { sched, ledger, ex } = await setup()
    ex.execute('a', [tx('t1', 't1=first')])
    ex.commit('c', undefined)
    ex.execute('b', [tx('t1', 't1=second'), tx('t2'), tx('t2')])
    // t2 ran earlier in this batch; t3 did not run (it failed), so it may run now.
    ex.execute('b2', [tx('t2', 't2=again'), tx('t3', 'no equals sign')])
    ex.execute('b3', [tx('t3')])
    ex.commit('d', undefined)
    await sched.runFor(1)
    expect((await ledger.getBlockByNumber(2))!.transactions.map(t => t.txid)).toEqual(['t2', 't3'])
    expect(fromUtf8((await ledger.getState('sim', 't1', true))!)).toBe('first')
    expect(fromUtf8((await ledger.getState('sim', 't2', true))!)).toBe('1')
    expect((await ledger.getBlockByNumber(2))!.nonHashData?.chaincodeEvents).toHaveLength(6)
  })

  it('a failing chaincode runtime rolls the batch back and says so', async () => {
    const { sched, consumer, ex, ledger } = await setup({ execute: async () => { throw new Error('runtime gone') } })
    ex.execute('a', [tx('t1')])
    ex.commit('c', undefined)
    await sched.runFor(1)
    expect(consumer.log).toEqual(['failed a: runtime gone', 'failed c: no transaction batch to commit'])
    expect(ledger.height).toBe(1)
  })

  it('a full queue refuses with an error naming executor.queuesize', async () => {
    const { ex } = await setup({ queueSize: 2 })
    ex.execute('a', [])
    ex.execute('b', [])
    ex.execute('c', [])
    expect(() => ex.execute('d', [])).toThrow(/executor queue full \(2 operations waiting, executor.queuesize\)/)
  })

  it('state transfer: retries a recoverable failure with any peer, reports an unrecoverable one', async () => {
    const calls: Array<string | undefined> = []
    let failures = 1
    const { sched, consumer, ex } = await setup({
      stateTransfer: {
        syncToTarget: async (n, _h, peers) => {
          calls.push(peers?.map(p => p.name).join(','))
          if (n === 9) throw new StateTransferError('bad hash', false)
          if (failures-- > 0) throw new StateTransferError('peer gone', true)
        }
      }
    })
    ex.execute('a', [tx('t1')])
    ex.updateState('s1', info(5), [handle('vp1')])
    ex.updateState('s2', info(10), [handle('vp2')])
    ex.execute('after', [tx('t2')])
    await sched.runFor(1000)
    expect(calls).toEqual(['vp1', undefined, 'vp2'])
    expect(consumer.log).toEqual([
      'executed a', 'stateUpdated s1 h5', 'stateUpdated s2 failed',
      'failed after: cannot execute while the ledger is being brought to a state transfer target'
    ])
  })

  it('gives up after the configured attempts', async () => {
    const { sched, consumer, ex } = await setup({ stateTransfer: { syncToTarget: async () => { throw new StateTransferError('nobody has it', true) } } })
    ex.updateState('s', info(5), undefined)
    await sched.runFor(1000)
    expect(consumer.log).toEqual(['stateUpdated s failed'])
  })
})

describe('Noops (Fabric consensus/noops)', () => {
  async function noops (blockSize: number, blockWaitMs: number) {
    const sched = new VirtualScheduler()
    const ledger = await openLedger(sched)
    /** The transactions of each execute, in order; one named `boom` makes its execute fail, `stall` holds it until release(). */
    const runs: string[][] = []
    const run = testExecutor(() => ledger)
    let release = (): void => {}
    const stalled = new Promise<void>(resolve => { release = resolve })
    const sent: Array<{ msg: Message, type: PeerEndpoint_Type }> = []
    const helper = new ConsensusHelper({}, {
      ledger,
      communicator: { broadcast: async (msg, type) => { sent.push({ msg, type }) }, unicast: async () => {} },
      inquirer: { getNetworkHandles: () => ({ self: handle('vp0'), network: [handle('vp0')] }) },
      executeTransactions: async txs => {
        runs.push(txs.map(t => t.txid))
        if (txs.some(t => t.txid === 'boom')) throw new Error('chaincode runtime failed')
        if (txs.some(t => t.txid === 'stall')) await stalled
        return await run(txs)
      },
      stateTransfer: { syncToTarget: async () => {} },
      scheduler: sched
    })
    const n = new Noops({ blockSize, blockWaitMs, queueLimit: 100, admissionWaitMs: 1000 }, { stack: helper.stack, scheduler: sched })
    helper.setConsenter(n)
    return { sched, ledger, sent, n, runs, release }
  }
  const chainTx = (t: Transaction): Message => create(MessageSchema, { type: Message_Type.CHAIN_TRANSACTION, payload: toBinary(TransactionSchema, t) })
  const consensusTx = (...ts: Transaction[]): Message =>
    create(MessageSchema, { type: Message_Type.CONSENSUS, payload: toBinary(TransactionBlockSchema, create(TransactionBlockSchema, { transactions: ts })) })
  const txids = async (ledger: Ledger, n: number): Promise<string[]> => (await ledger.getBlockByNumber(n))!.transactions.map(t => t.txid)

  it('a client transaction goes to the other validators as a CONSENSUS TransactionBlock and to execution at once', async () => {
    const { sched, ledger, sent, n } = await noops(10, 1000)
    n.recvMsg(chainTx(tx('t1')), handle('vp0'))
    expect(sent).toHaveLength(1)
    expect(sent[0].type).toBe(PeerEndpoint_Type.VALIDATOR)
    expect(sent[0].msg.type).toBe(Message_Type.CONSENSUS)
    expect(fromBinary(TransactionBlockSchema, sent[0].msg.payload).transactions.map(t => t.txid)).toEqual(['t1'])
    expect(n.queued).toBe(0)
    await sched.runFor(1000)
    expect(await txids(ledger, 1)).toEqual(['t1'])
  })

  it('cuts a block at block.size, and at block.wait after the first transaction', async () => {
    const { sched, ledger, n } = await noops(2, 1000)
    n.recvMsg(consensusTx(tx('a')), handle('vp1'))
    n.recvMsg(consensusTx(tx('b')), handle('vp2'))
    n.recvMsg(consensusTx(tx('c')), handle('vp1'))
    await sched.runFor(1)
    expect(await txids(ledger, 1)).toEqual(['a', 'b'])
    expect(ledger.height).toBe(2)
    await sched.runFor(998)
    expect(ledger.height).toBe(2)
    await sched.runFor(2)
    expect(await txids(ledger, 2)).toEqual(['c'])
  })

  it('runs a block\'s transactions as they arrive, and commits the block once it is cut and all of it has run', async () => {
    const { sched, ledger, n, runs } = await noops(3, 1000)
    n.recvMsg(consensusTx(tx('a')), handle('vp1'))
    await sched.runFor(1)
    // Executed before its block is cut; committed only with it.
    expect(runs).toEqual([['a']])
    expect(ledger.height).toBe(1)
    expect(fromUtf8((await ledger.getState('sim', 'a', false))!)).toBe('1')
    n.recvMsg(consensusTx(tx('b')), handle('vp1'))
    // Arrive while b runs: c fills the block, d starts the next one (and its block.wait).
    n.recvMsg(consensusTx(tx('c'), tx('d')), handle('vp1'))
    await sched.runFor(1)
    expect(runs).toEqual([['a'], ['b'], ['c'], ['d']])
    expect(await txids(ledger, 1)).toEqual(['a', 'b', 'c'])
    await sched.runFor(997)
    expect(ledger.height).toBe(2)
    await sched.runFor(2)
    expect(await txids(ledger, 2)).toEqual(['d'])
  })

  it('a failed execute drops its whole block, what ran of it before too; the next block starts afresh', async () => {
    const { sched, ledger, n, runs } = await noops(3, 1000)
    n.recvMsg(consensusTx(tx('a')), handle('vp1'))
    await sched.runFor(1)
    n.recvMsg(consensusTx(tx('boom')), handle('vp1'))
    await sched.runFor(1)
    n.recvMsg(consensusTx(tx('c')), handle('vp1'))
    await sched.runFor(1000)
    expect(runs).toEqual([['a'], ['boom'], ['c']])
    expect(ledger.height).toBe(2)
    expect(await txids(ledger, 1)).toEqual(['c'])
    expect(await ledger.getState('sim', 'a', true)).toBeNull()
  })

  it('a client waits for room once 32 transactions wait to be executed, whatever block.size', async () => {
    const { sched, n, runs, release } = await noops(500, 1000)
    n.recvMsg(chainTx(tx('stall')), handle('vp0'))
    for (let i = 0; i < 32; i++) {
      await n.room()
      n.recvMsg(chainTx(tx(`t${i}`)), handle('vp0'))
    }
    let admitted = false
    void n.room().then(() => { admitted = true })
    await sched.runFor(10)
    expect([admitted, n.queued]).toEqual([false, 32])
    release()
    await sched.runFor(10)
    // The executor took all 32 at once; the client is in.
    expect(runs[1]).toHaveLength(32)
    expect([admitted, n.queued]).toEqual([true, 0])
  })

  it('block.wait 0 cuts as soon as the queue is idle', async () => {
    const { sched, ledger, n } = await noops(500, 0)
    n.recvMsg(consensusTx(tx('a'), tx('b')), handle('vp1'))
    n.recvMsg(consensusTx(tx('c')), handle('vp1'))
    await sched.runFor(0)
    expect(await txids(ledger, 1)).toEqual(['a', 'b', 'c'])
  })

  it('leaves block announcements to the peer: it sends only the CONSENSUS broadcast of a client transaction', async () => {
    const { sched, sent, n, ledger } = await noops(1, 1000)
    n.recvMsg(chainTx(tx('a')), handle('vp0'))
    n.recvMsg(consensusTx(tx('b')), handle('vp1'))
    await sched.runFor(1)
    expect(ledger.height).toBe(3)
    expect(sent.map(s => [Message_Type[s.msg.type], PeerEndpoint_Type[s.type]])).toEqual([['CONSENSUS', 'VALIDATOR']])
  })

  it('refuses malformed messages and a full queue with clear errors', async () => {
    const { n } = await noops(1000, 60_000)
    expect(() => n.recvMsg(create(MessageSchema, { type: Message_Type.CHAIN_TRANSACTION, payload: Uint8Array.of(0xff) }), handle('vp0')))
      .toThrow(/Error unmarshalling payload of received Message: CHAIN_TRANSACTION/)
    expect(() => n.recvMsg(consensusTx(), handle('vp3'))).toThrow(/from vp3 holds no transaction/)
    expect(() => n.recvMsg(create(MessageSchema, { type: Message_Type.SYNC_BLOCKS }), handle('vp3'))).toThrow(/noops cannot handle message type SYNC_BLOCKS/)
    // The first goes to execution; the next 100 wait behind it.
    for (let i = 0; i <= 100; i++) n.recvMsg(consensusTx(tx(`t${i}`)), handle('vp1'))
    expect(() => n.recvMsg(consensusTx(tx('one-too-many')), handle('vp1'))).toThrow(/noops transaction queue full \(100 waiting\), rejecting transaction one-too-many/)
  })
})
