// The engine around the plugins: message fan, ConsensusHandler, processTransaction,
// event loop and timers, consensus persistence.
import { create, toBinary } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { fromUtf8, utf8 } from '../../src/crypto/bytes.ts'
import { ConsensusEngine, type EngineComponents } from '../../src/consensus/engine.ts'
import { EventManager, EventTimer } from '../../src/consensus/events/manager.ts'
import { ChannelFullError, MessageFan } from '../../src/consensus/fan.ts'
import { ConsensusHandler } from '../../src/consensus/handler.ts'
import type { Consenter } from '../../src/consensus/interfaces.ts'
import { ConsensusPersistor } from '../../src/consensus/persist.ts'
import { handle, ValidatorSet } from '../../src/consensus/validators.ts'
import { Ledger, makeGenesis } from '../../src/ledger/ledger.ts'
import type { MessageHandler } from '../../src/peer/message-handler.ts'
import { MessageSchema, Message_Type, PeerEndpointSchema, Response_StatusCode, TransactionBlockSchema, TransactionSchema, Transaction_Type, type Message, type PeerEndpoint, type Response } from '../../src/protos/fabric_pb.ts'
import { memoryStore, type KVStore } from '../../src/storage/index.ts'
import type { ChatStream } from '../../src/transport/chat-stream.ts'
import { setLogLevel } from '../../src/util/logger.ts'
import { testExecutor } from './kv-executor.ts'
import { VirtualScheduler } from '../sim/scheduler.ts'

setLogLevel('silent')

const consensusMsg = (payload: string): Message => create(MessageSchema, { type: Message_Type.CONSENSUS, payload: utf8(payload) })

function innerHandler (name: string | undefined, seen: Message[] = []): MessageHandler {
  const ep: PeerEndpoint | undefined = name === undefined ? undefined : create(PeerEndpointSchema, { ID: { name } })
  return {
    handleMessage: async m => { seen.push(m) },
    sendMessage: async () => {},
    to: () => ep,
    stop: async () => {}
  }
}

const stream = (remote: string): ChatStream => ({
  remote, transport: 'memory', send: async () => {}, recv: async () => undefined, close: async () => {}
})

describe('MessageFan', () => {
  it('merges every connection\'s messages into one input in arrival order', async () => {
    const fan = new MessageFan()
    const got: string[] = []
    const a = fan.addChannel('a', 10)
    const b = fan.addChannel('b', 10)
    a.push(consensusMsg('a1'), handle('vp1'))
    b.push(consensusMsg('b1'), handle('vp2'))
    a.push(consensusMsg('a2'), handle('vp1'))
    fan.start(async ({ msg, sender }) => { got.push(`${sender.name}:${fromUtf8(msg.payload)}`) })
    b.push(consensusMsg('b2'), handle('vp2'))
    await new Promise(resolve => setTimeout(resolve, 10))
    expect(got).toEqual(['vp1:a1', 'vp2:b1', 'vp1:a2', 'vp2:b2'])
  })

  it('a full channel rejects with an error naming the sender; other channels are not affected', async () => {
    const fan = new MessageFan()
    const a = fan.addChannel('12D3KooWa', 2)
    const b = fan.addChannel('12D3KooWb', 2)
    a.push(consensusMsg('1'), handle('vp1'))
    a.push(consensusMsg('2'), handle('vp1'))
    expect(() => a.push(consensusMsg('3'), handle('vp1'))).toThrow(new ChannelFullError('vp1', 2))
    expect(() => a.push(consensusMsg('3'), handle('vp1'))).toThrow('Message channel for vp1 full, rejecting')
    expect(() => b.push(consensusMsg('x'), handle('vp2'))).not.toThrow()
    const got: string[] = []
    fan.start(({ msg }) => { got.push(fromUtf8(msg.payload)) })
    await new Promise(resolve => setTimeout(resolve, 10))
    expect(got).toEqual(['1', '2', 'x'])
    expect(a.length).toBe(0)
    a.push(consensusMsg('4'), handle('vp1'))
  })

  it('a buffer size of 0 or less falls back to 1000, as Fabric', () => {
    const ch = new MessageFan().addChannel('a', 0)
    for (let i = 0; i < 1000; i++) ch.push(consensusMsg(''), handle('vp1'))
    expect(() => ch.push(consensusMsg(''), handle('vp1'))).toThrow(/full/)
  })
})

describe('ConsensusHandler', () => {
  const validators = new ValidatorSet('vp0', [{ name: 'vp0', peerId: 'P0' }, { name: 'vp1', peerId: 'P1' }, { name: 'vp2' }])

  it('diverts CONSENSUS into the fan with the sender the stream authenticates; passes the rest on', async () => {
    const fan = new MessageFan()
    const got: string[] = []
    fan.start(({ sender }) => { got.push(sender.name) })
    const seen: Message[] = []
    const h = new ConsensusHandler(innerHandler('whatever', seen), fan.addChannel('P1', 10), stream('P1'), validators)
    await h.handleMessage(consensusMsg('x'))
    await h.handleMessage(create(MessageSchema, { type: Message_Type.SYNC_BLOCKS }))
    await new Promise(resolve => setTimeout(resolve, 5))
    expect(got).toEqual(['vp1'])
    expect(seen.map(m => m.type)).toEqual([Message_Type.SYNC_BLOCKS])
  })

  it('drops CONSENSUS from non-validators and from peers claiming a validator\'s name; rejects it before HELLO', async () => {
    const fan = new MessageFan()
    const got: string[] = []
    fan.start(({ sender }) => { got.push(sender.name) })
    await new ConsensusHandler(innerHandler('nvp7'), fan.addChannel('X', 10), stream('X'), validators).handleMessage(consensusMsg('x'))
    await new ConsensusHandler(innerHandler('vp1'), fan.addChannel('Y', 10), stream('Y'), validators).handleMessage(consensusMsg('x'))
    await new ConsensusHandler(innerHandler('vp2'), fan.addChannel('Z', 10), stream('Z'), validators).handleMessage(consensusMsg('x'))
    await expect(new ConsensusHandler(innerHandler(undefined), fan.addChannel('W', 10), stream('W'), validators).handleMessage(consensusMsg('x')))
      .rejects.toThrow(/before its HELLO/)
    await new Promise(resolve => setTimeout(resolve, 5))
    expect(got).toEqual(['vp2'])
  })

  it('rejects with the channel-full error naming the sender', async () => {
    const fan = new MessageFan()
    const h = new ConsensusHandler(innerHandler('x'), fan.addChannel('P1', 1), stream('P1'), validators)
    await h.handleMessage(consensusMsg('1'))
    await expect(h.handleMessage(consensusMsg('2'))).rejects.toThrow('Message channel for vp1 full, rejecting')
  })
})

async function noopsEngine (store?: KVStore, query?: EngineComponents['query'], gate?: () => Promise<void> | undefined, reaches?: () => boolean): Promise<{ engine: ConsensusEngine, ledger: Ledger, sched: VirtualScheduler, sent: Message[] }> {
  const sched = new VirtualScheduler()
  const ledger = await Ledger.open(store ?? await memoryStore(), { numBuckets: 19, maxGroupingAtEachLevel: 3, scheduler: sched })
  await makeGenesis(ledger)
  const sent: Message[] = []
  const engine = await ConsensusEngine.create({ plugin: 'noops', noops: { blockSize: 2, blockWaitMs: 1000, queueLimit: 10, admissionWaitMs: 1000 } }, {
    ledger,
    validators: new ValidatorSet('vp0', [{ name: 'vp0' }], true),
    communicator: { broadcast: async m => { sent.push(m) }, unicast: async () => {}, reaches },
    executeTransactions: testExecutor(() => ledger, gate),
    stateTransfer: { syncToTarget: async () => {} },
    scheduler: sched,
    query
  })
  engine.start()
  return { engine, ledger, sched, sent }
}

const tx = (txid: string, type = Transaction_Type.CHAINCODE_INVOKE, payload = `${txid}=1`) => create(TransactionSchema, { txid, type, payload: utf8(payload) })

describe('ConsensusEngine', () => {
  it('processTransaction hands an invoke to the consenter and answers with its txid', async () => {
    const { engine, ledger, sched } = await noopsEngine()
    const r = await engine.processTransaction(tx('t1'))
    expect([r.status, fromUtf8(r.msg)]).toEqual([Response_StatusCode.SUCCESS, 't1'])
    await engine.processTransaction(tx('t2'))
    await sched.runFor(10)
    expect(ledger.height).toBe(2)
    expect((await ledger.getBlockByNumber(1))?.transactions.map(t => t.txid)).toEqual(['t1', 't2'])
    await engine.stop()
  })

  it('broadcasts each invoke to the validators as a CONSENSUS TransactionBlock, the bytes Fabric marshals; one that came as bytes is decoded', async () => {
    const { engine, ledger, sched, sent } = await noopsEngine()
    await engine.processTransaction(tx('t1'))
    engine.consenter.recvMsg(create(MessageSchema, { type: Message_Type.CHAIN_TRANSACTION, payload: toBinary(TransactionSchema, tx('t2')) }), handle('vp0'))
    expect(sent.map(m => m.type)).toEqual([Message_Type.CONSENSUS, Message_Type.CONSENSUS])
    expect(sent.map(m => m.payload)).toEqual(['t1', 't2'].map(id => toBinary(TransactionBlockSchema, create(TransactionBlockSchema, { transactions: [tx(id)] }))))
    await sched.runFor(10)
    expect((await ledger.getBlockByNumber(1))?.transactions.map(t => toBinary(TransactionSchema, t))).toEqual(['t1', 't2'].map(id => toBinary(TransactionSchema, tx(id))))
    await engine.stop()
  })

  it('builds no CONSENSUS message when no validator is connected to receive it', async () => {
    const { engine, ledger, sched, sent } = await noopsEngine(undefined, undefined, undefined, () => false)
    await engine.processTransaction(tx('t1'))
    await engine.processTransaction(tx('t2'))
    await sched.runFor(10)
    expect(sent).toEqual([])
    expect((await ledger.getBlockByNumber(1))?.transactions.map(t => t.txid)).toEqual(['t1', 't2'])
    await engine.stop()
  })

  it('a query runs locally; refused while the state is invalid', async () => {
    const { engine } = await noopsEngine(undefined, async t => utf8(`answer to ${t.txid}`))
    const ok = await engine.processTransaction(tx('q', Transaction_Type.CHAINCODE_QUERY))
    expect([ok.status, fromUtf8(ok.msg)]).toEqual([Response_StatusCode.SUCCESS, 'answer to q'])
    engine.helper.stack.ledgerManager.invalidateState()
    const refused = await engine.processTransaction(tx('q', Transaction_Type.CHAINCODE_QUERY))
    expect([refused.status, fromUtf8(refused.msg)]).toEqual([Response_StatusCode.FAILURE, 'Error: state may be inconsistent, cannot query'])
    await engine.stop()
  })

  it('a client waits while a block\'s worth waits to be executed, and is taken once the executor takes one of them', async () => {
    let open!: () => void
    const opened = new Promise<void>(resolve => { open = resolve })
    const { engine, ledger, sched } = await noopsEngine(undefined, undefined, () => opened)
    // blockSize 2: t0 stalls in execution, t1 and t2 make a block's worth waiting behind it.
    for (let i = 0; i < 3; i++) expect((await engine.processTransaction(tx(`t${i}`))).status).toBe(Response_StatusCode.SUCCESS)
    let held: Response | undefined
    void engine.processTransaction(tx('held')).then(r => { held = r })
    await sched.runFor(500)
    expect(held).toBeUndefined()
    open()
    await sched.runFor(10)
    expect([held?.status, fromUtf8(held!.msg)]).toEqual([Response_StatusCode.SUCCESS, 'held'])
    await sched.runFor(10)
    expect(ledger.height).toBe(3)
    expect((await ledger.getBlockByNumber(1))?.transactions.map(t => t.txid)).toEqual(['t0', 't1'])
    expect((await ledger.getBlockByNumber(2))?.transactions.map(t => t.txid)).toEqual(['t2', 'held'])
    await engine.stop()
  })

  it('a client that finds no room within admissionWaitMs gets a FAILURE saying the queue is full', async () => {
    let open!: () => void
    const opened = new Promise<void>(resolve => { open = resolve })
    const { engine, ledger, sched } = await noopsEngine(undefined, undefined, () => opened)
    for (let i = 0; i < 3; i++) await engine.processTransaction(tx(`t${i}`))
    const refused = engine.processTransaction(tx('late'))
    await sched.runFor(1000)
    const r = await refused
    expect([r.status, fromUtf8(r.msg)]).toEqual([Response_StatusCode.FAILURE, 'noops transaction queue full (2 waiting; no room within 1000 ms)'])
    expect(ledger.height).toBe(1)
    open()
    await engine.stop()
  })
})

describe('Event loop and timers', () => {
  it('events a handler returns run next; events queued meanwhile wait their turn', () => {
    const order: string[] = []
    const m: EventManager<string> = new EventManager(e => {
      order.push(e)
      if (e === 'a') { m.queue('c'); return 'b' }
      return undefined
    })
    m.queue('a')
    expect(order).toEqual(['a', 'b', 'c'])
  })

  it('a stopped or reset timer never delivers its old event; softReset keeps a running countdown', async () => {
    const sched = new VirtualScheduler()
    const got: string[] = []
    const m = new EventManager<string>(e => { got.push(`${e}@${sched.now() - 1_700_000_000_000}`); return undefined })
    const t = new EventTimer(sched, m)
    t.reset(100, 'first')
    t.softReset(10, 'ignored')
    await sched.runFor(50)
    t.reset(100, 'second')
    await sched.runFor(200)
    t.reset(10, 'third')
    t.stop()
    await sched.runFor(100)
    expect(got).toEqual(['second@150'])
  })
})

describe('ConsensusPersistor', () => {
  it('keeps keys under consensus. in the persist column, in issue order, and reads them back by prefix', async () => {
    const store = await memoryStore()
    const p = new ConsensusPersistor(store)
    p.storeState('chkpt.10', utf8('a'))
    p.storeState('chkpt.12', utf8('b'))
    p.storeState('pset', utf8('c'))
    p.delState('chkpt.10')
    p.storeState('chkpt.12', utf8('B'))
    expect([...await p.readStateSet('chkpt.')].map(([k, v]) => `${k}=${fromUtf8(v)}`)).toEqual(['chkpt.12=B'])
    expect(fromUtf8((await new ConsensusPersistor(store).readState('pset'))!)).toBe('c')
  })

  it('a failed write is not silent: flush rejects with it', async () => {
    const store = await memoryStore()
    const p = new ConsensusPersistor({ ...store, write: async () => { throw new Error('disk full') } })
    p.storeState('x', utf8('1'))
    await expect(p.flush()).rejects.toThrow(/persisting consensus state \(consensus.x\) failed: disk full/)
  })
})

describe('processTransaction payload', () => {
  it('sends the transaction marshaled as CHAIN_TRANSACTION to a consenter that takes no transactions as they are', async () => {
    const { engine } = await noopsEngine()
    const got: Message[] = []
    const consenter: Consenter = engine.consenter
    consenter.submit = undefined
    consenter.recvMsg = m => { got.push(m) }
    await engine.processTransaction(tx('t9'))
    expect(got[0].type).toBe(Message_Type.CHAIN_TRANSACTION)
    expect(got[0].payload).toEqual(toBinary(TransactionSchema, tx('t9')))
    await engine.stop()
  })
})
