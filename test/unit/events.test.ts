import { readFileSync } from 'node:fs'
import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import { afterEach, describe, expect, it } from 'vitest'
import { fromHex, toHex, utf8 } from '../../src/crypto/bytes.ts'
import { withoutCodePackages } from '../../src/events/code-package.ts'
import { blockEvent, chaincodeEvent, rejectionEvent } from '../../src/events/events.ts'
import { EventBufferFullError, EventHub } from '../../src/events/hub.ts'
import { serveEventStream, type EventStream } from '../../src/events/session.ts'
import { Ledger, makeGenesis } from '../../src/ledger/ledger.ts'
import { ChaincodeDeploymentSpecSchema } from '../../src/protos/chaincode_pb.ts'
import { ChaincodeEventSchema } from '../../src/protos/chaincodeevent_pb.ts'
import { EventSchema, EventType, InterestSchema, type Event, type Interest } from '../../src/protos/events_pb.ts'
import { BlockSchema, TransactionResultSchema, TransactionSchema, Transaction_Type, type Block } from '../../src/protos/fabric_pb.ts'
import { memoryStore } from '../../src/storage/index.ts'
import { waitFor } from '../helpers/wait.ts'

const messages = JSON.parse(readFileSync(new URL('../vectors/messages.json', import.meta.url), 'utf8'))
const vector = (name: string) => messages.cases.find((c: any) => c.name === name)

const blockI = create(InterestSchema, { eventType: EventType.BLOCK })
const rejectionI = create(InterestSchema, { eventType: EventType.REJECTION })
const ccI = (chaincodeID: string, eventName = ''): Interest =>
  create(InterestSchema, { eventType: EventType.CHAINCODE, RegInfo: { case: 'chaincodeRegInfo', value: { chaincodeID, eventName } } })

const hubs: EventHub[] = []
function newHub (bufferSize = 100, timeoutMs = 10): EventHub {
  const hub = new EventHub({ bufferSize, timeoutMs })
  hubs.push(hub)
  return hub
}
afterEach(() => { for (const h of hubs.splice(0)) h.close() })

const tick = () => new Promise(resolve => setTimeout(resolve, 0))

function deployTx (name: string, codePackage: Uint8Array) {
  const spec = create(ChaincodeDeploymentSpecSchema, { chaincodeSpec: { type: 1, chaincodeID: { name }, ctorMsg: { args: [utf8('init')] } }, codePackage })
  return create(TransactionSchema, { type: Transaction_Type.CHAINCODE_DEPLOY, txid: name, payload: toBinary(ChaincodeDeploymentSpecSchema, spec) })
}

describe('event constructors (messages.json)', () => {
  for (const name of ['event_block', 'event_block_empty_genesis']) {
    it(name, () => {
      const c = vector(name)
      const original = fromBinary(EventSchema, fromHex(c.proto_hex))
      const block = original.Event.value as Block
      expect(toHex(toBinary(EventSchema, blockEvent(withoutCodePackages(block))))).toBe(c.proto_hex)
    })
  }
  it('event_chaincode', () => {
    const c = vector('event_chaincode')
    const ev = fromBinary(ChaincodeEventSchema, fromHex(vector('chaincode_event_standalone').proto_hex))
    expect(toHex(toBinary(EventSchema, chaincodeEvent(ev)))).toBe(c.proto_hex)
  })
  it('event_rejection', () => {
    const c = vector('event_rejection')
    const r = fromBinary(EventSchema, fromHex(c.proto_hex)).Event
    if (r.case !== 'rejection') throw new Error('vector is not a rejection')
    expect(toHex(toBinary(EventSchema, rejectionEvent(r.value.tx!, r.value.errorMsg)))).toBe(c.proto_hex)
  })
})

describe('withoutCodePackages', () => {
  it('strips deploy code packages from a copy', () => {
    const block = create(BlockSchema, { transactions: [deployTx('cc', new Uint8Array(300).fill(7)), create(TransactionSchema, { type: Transaction_Type.CHAINCODE_INVOKE, txid: 'i', payload: new Uint8Array([1, 2]) })] })
    const stripped = withoutCodePackages(block)
    const spec = fromBinary(ChaincodeDeploymentSpecSchema, stripped.transactions[0].payload)
    expect(spec.codePackage.length).toBe(0)
    expect(spec.chaincodeSpec?.chaincodeID?.name).toBe('cc')
    expect(stripped.transactions[1].payload).toEqual(new Uint8Array([1, 2]))
    expect(fromBinary(ChaincodeDeploymentSpecSchema, block.transactions[0].payload).codePackage.length).toBe(300)
  })

  it('refuses an undecodable deploy payload unless told to keep it', () => {
    const bad = create(BlockSchema, { transactions: [create(TransactionSchema, { type: Transaction_Type.CHAINCODE_DEPLOY, txid: 'x', payload: new Uint8Array([0xff, 0xff]) })] })
    expect(() => withoutCodePackages(bad)).toThrow(/deploy transaction x has an undecodable payload/)
    const seen: string[] = []
    const kept = withoutCodePackages(bad, (tx, err) => seen.push(`${tx.txid}: ${err.message}`))
    expect(kept.transactions[0].payload).toEqual(new Uint8Array([0xff, 0xff]))
    expect(seen).toHaveLength(1)
  })
})

describe('interest registry', () => {
  it('applies Fabric registration rules', () => {
    const hub = newHub()
    const c = { name: 'c', deliver: async () => {} }
    hub.register(c, blockI)
    expect(() => hub.register(c, blockI)).toThrow('error registering handler for  BLOCK: handler exists for event type')
    expect(() => hub.register(c, create(InterestSchema, { eventType: EventType.CHAINCODE }))).toThrow(/chaincode information not provided for registering/)
    expect(() => hub.register(c, ccI(''))).toThrow(/chaincode ID not provided for registering/)
    expect(() => hub.register(c, create(InterestSchema, { eventType: EventType.REGISTER }))).toThrow('event type REGISTER does not exist')
    hub.register(c, ccI('mycc', 'transfer'))
    expect(() => hub.register(c, ccI('mycc', 'transfer'))).toThrow(/handler exists/)
    expect(() => hub.deregister(c, ccI('other'))).toThrow(/chaincode ID not registered/)
    expect(() => hub.deregister(c, ccI('mycc', 'x'))).toThrow(/event name x not registered for chaincode ID mycc/)
    expect(() => hub.deregister(c, rejectionI)).toThrow(/handler does not exist for event type/)
    expect(hub.consumerCount).toBe(1)
    hub.deregister(c, ccI('mycc', 'transfer'))
    hub.deregister(c, blockI)
    expect(hub.consumerCount).toBe(0)
  })

  it('filters chaincode events by id and name; an empty name means all', async () => {
    const hub = newHub()
    const got: Record<string, string[]> = { exact: [], all: [], other: [], blocks: [] }
    hub.subscribe([ccI('mycc', 'transfer')], ev => { got.exact.push((ev.Event.value as any).eventName) })
    hub.subscribe([ccI('mycc')], ev => { got.all.push((ev.Event.value as any).eventName) })
    hub.subscribe([ccI('othercc')], ev => { got.other.push((ev.Event.value as any).eventName) })
    hub.subscribe([blockI], ev => { got.blocks.push(ev.Event.case!) })
    for (const eventName of ['transfer', 'mint', '']) {
      await hub.send(chaincodeEvent(create(ChaincodeEventSchema, { chaincodeID: 'mycc', eventName })))
    }
    await waitFor('the three chaincode events', () => got.all.length === 3)
    expect(got).toEqual({ exact: ['transfer'], all: ['transfer', 'mint', ''], other: [], blocks: [] })
  })

  it('refuses an in-process subscription as a whole', () => {
    const hub = newHub()
    expect(() => hub.subscribe([blockI, ccI('')], () => {})).toThrow(/chaincode ID not provided/)
    expect(hub.consumerCount).toBe(0)
  })
})

describe('EventHub on a real ledger', () => {
  it('sends BLOCK (code packages removed) then the block\'s chaincode events', async () => {
    const ledger = await Ledger.open(await memoryStore())
    const hub = newHub()
    hub.attachLedger(ledger)
    const seen: Event[] = []
    hub.subscribe([blockI, ccI('cc')], ev => { seen.push(ev) })
    await makeGenesis(ledger)
    const tx = deployTx('cc', new Uint8Array(1000).fill(1))
    ledger.beginTxBatch(1)
    ledger.txBegin('cc')
    await ledger.setState('cc', 'a', utf8('100'))
    ledger.txFinished('cc', true)
    await ledger.commitTxBatch(1, [tx], [
      create(TransactionResultSchema, { txid: 'cc', chaincodeEvent: { chaincodeID: 'cc', txID: 'cc', eventName: 'deployed', payload: utf8('p') } }),
      create(TransactionResultSchema, { txid: 'failed' })
    ])
    await waitFor('two blocks and a chaincode event', () => seen.length === 3)
    expect(seen.map(e => e.Event.case)).toEqual(['block', 'block', 'chaincodeEvent'])
    const b1 = seen[1].Event.value as Block
    expect(fromBinary(ChaincodeDeploymentSpecSchema, b1.transactions[0].payload).codePackage.length).toBe(0)
    expect((seen[2].Event.value as any).eventName).toBe('deployed')
    // The ledger's copy keeps its code package.
    const stored = await ledger.getBlockByNumber(1)
    expect(fromBinary(ChaincodeDeploymentSpecSchema, stored!.transactions[0].payload).codePackage.length).toBe(1000)
    await ledger.close()
  })

  it('publishes rejections to REJECTION listeners only', async () => {
    const hub = newHub()
    const rej: Event[] = []
    const blocks: Event[] = []
    hub.subscribe([rejectionI], ev => { rej.push(ev) })
    hub.subscribe([blockI], ev => { blocks.push(ev) })
    hub.publishRejection(create(TransactionSchema, { txid: 't1' }), 'Transaction or query returned with failure: boom')
    await waitFor('the rejection', () => rej.length === 1)
    await tick()
    expect(blocks).toHaveLength(0)
    expect(rej[0].Event.case === 'rejection' && rej[0].Event.value.errorMsg).toBe('Transaction or query returned with failure: boom')
  })
})

describe('buffer and timeout', () => {
  /** A consumer that holds every delivery until released. */
  function stuckConsumer (hub: EventHub) {
    const held: Array<() => void> = []
    const got: number[] = []
    hub.subscribe([blockI], ev => new Promise<void>(resolve => {
      got.push(Number((ev.Event.value as Block).version))
      held.push(resolve)
    }))
    return { held, got, releaseAll: () => { for (const r of held.splice(0)) r() } }
  }
  const ev = (n: number) => blockEvent(create(BlockSchema, { version: n }))

  it('timeout < 0 drops at once when full', async () => {
    const hub = newHub(2, -1)
    const c = stuckConsumer(hub)
    await hub.send(ev(1))
    await waitFor('the consumer to hold an event', () => c.held.length === 1) // the processor is busy with event 1
    await hub.send(ev(2))
    await hub.send(ev(3))
    await expect(hub.send(ev(4))).rejects.toThrow(EventBufferFullError)
    await expect(hub.send(ev(4))).rejects.toThrow('could not send the blocking event')
    expect(hub.stats.refused).toBe(2)
    c.releaseAll()
    await waitFor('the second event', () => c.held.length === 1 && c.got.length === 2)
    c.releaseAll()
    await waitFor('the third event', () => c.got.length === 3)
    expect(c.got).toEqual([1, 2, 3])
  })

  it('timeout > 0 waits that long, then fails; room in time lets it through', async () => {
    const hub = newHub(1, 40)
    const c = stuckConsumer(hub)
    await hub.send(ev(1))
    await waitFor('the consumer to hold an event', () => c.held.length === 1)
    await hub.send(ev(2))
    const started = Date.now()
    await expect(hub.send(ev(3))).rejects.toThrow(EventBufferFullError)
    expect(Date.now() - started).toBeGreaterThanOrEqual(35)
    const late = hub.send(ev(4))
    setTimeout(c.releaseAll, 5)
    await expect(late).resolves.toBeUndefined()
    for (let i = 0; i < 2; i++) { await waitFor('the next event', () => c.held.length > 0); c.releaseAll() }
    await waitFor('the third event', () => c.got.length === 3)
    expect(c.got).toEqual([1, 2, 4])
  })

  it('timeout 0 waits for room however long it takes, keeping order', async () => {
    const hub = newHub(1, 0)
    const c = stuckConsumer(hub)
    await hub.send(ev(1))
    await waitFor('the consumer to hold an event', () => c.held.length === 1)
    await hub.send(ev(2))
    let sent3 = false
    const p3 = hub.send(ev(3)).then(() => { sent3 = true })
    await new Promise(resolve => setTimeout(resolve, 30))
    expect(sent3).toBe(false)
    c.releaseAll()
    await p3
    for (let i = 0; i < 2; i++) { await waitFor('the next event', () => c.held.length > 0); c.releaseAll() }
    await waitFor('the third event', () => c.got.length === 3)
    expect(c.got).toEqual([1, 2, 3])
  })

  it('a zero-size buffer hands over only to an idle processor', async () => {
    const hub = newHub(0, -1)
    const c = stuckConsumer(hub)
    await tick()
    await hub.send(ev(1))
    await waitFor('the consumer to hold an event', () => c.held.length === 1)
    await expect(hub.send(ev(2))).rejects.toThrow(EventBufferFullError)
    c.releaseAll()
  })

  it('refuses unset events and sends after close', async () => {
    const hub = newHub()
    await expect(hub.send(create(EventSchema))).rejects.toThrow('event not set')
    hub.close()
    await expect(hub.send(ev(1))).rejects.toThrow('event hub is closed')
  })
})

/** An in-memory EventStream: the test plays the client. */
function memoryStream () {
  const inbox: Array<Event | undefined | Error> = []
  let waiting: ((v: Event | undefined | Error) => void) | undefined
  const sent: Event[] = []
  let closedWith: Error | undefined | null = null
  const stream: EventStream = {
    remote: 'test-client',
    send: async e => { if (closedWith !== null) throw new Error('closed'); sent.push(e) },
    recv: async () => {
      const v = inbox.length > 0 ? inbox.shift() : await new Promise<Event | undefined | Error>(resolve => { waiting = resolve })
      if (v instanceof Error) throw v
      return v
    },
    close: async err => { closedWith = err }
  }
  const push = (v: Event | undefined | Error) => { if (waiting !== undefined) { const w = waiting; waiting = undefined; w(v) } else inbox.push(v) }
  return { stream, sent, push, closed: () => closedWith }
}

describe('serveEventStream', () => {
  const register = (...events: Interest[]) => create(EventSchema, { Event: { case: 'register', value: { events } } })
  const unregister = (...events: Interest[]) => create(EventSchema, { Event: { case: 'unregister', value: { events } } })

  it('acks by echo, delivers matching events, unregisters, drops interests at EOF', async () => {
    const hub = newHub()
    const m = memoryStream()
    const done = serveEventStream(hub, m.stream)
    const reg = register(blockI, ccI(''), ccI('mycc', 'transfer'))
    m.push(reg)
    await waitFor('the register ack', () => m.sent.length === 1)
    expect(toBinary(EventSchema, m.sent[0])).toEqual(toBinary(EventSchema, reg)) // the refused interest is logged, the ack is the same message
    expect(hub.consumerCount).toBe(1)
    await hub.send(blockEvent(create(BlockSchema)))
    await hub.send(chaincodeEvent(create(ChaincodeEventSchema, { chaincodeID: 'mycc', eventName: 'transfer' })))
    await hub.send(rejectionEvent(create(TransactionSchema), 'x'))
    await waitFor('the block and chaincode events', () => m.sent.length === 3)
    expect(m.sent.map(e => e.Event.case)).toEqual(['register', 'block', 'chaincodeEvent'])
    m.push(unregister(blockI))
    await waitFor('the unregister ack', () => m.sent.length === 4)
    expect(m.sent[3].Event.case).toBe('unregister')
    await hub.send(blockEvent(create(BlockSchema)))
    m.push(create(EventSchema)) // an empty event is echoed as well
    await waitFor('the echo of an empty event', () => m.sent.length === 5)
    expect(m.sent[4].Event.case).toBeUndefined()
    m.push(undefined)
    await done
    expect(m.closed()).toBeUndefined()
    expect(hub.consumerCount).toBe(0)
  })

  it('ends the stream with an error when the client sends an event of its own', async () => {
    const hub = newHub()
    const m = memoryStream()
    const done = serveEventStream(hub, m.stream)
    m.push(register(blockI))
    m.push(blockEvent(create(BlockSchema)))
    await done
    expect(m.closed()?.message).toMatch(/invalid event type from client: block/)
    expect(hub.consumerCount).toBe(0)
  })

  it('ends the stream with the transport error (e.g. an undecodable frame)', async () => {
    const hub = newHub()
    const m = memoryStream()
    const done = serveEventStream(hub, m.stream)
    m.push(register(rejectionI))
    m.push(new Error('malformed frame'))
    await done
    expect(m.closed()?.message).toBe('malformed frame')
    expect(hub.consumerCount).toBe(0)
  })
})
