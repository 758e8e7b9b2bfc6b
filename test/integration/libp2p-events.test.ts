import { create } from '@bufbuild/protobuf'
import { afterAll, describe, expect, it } from 'vitest'
import { utf8 } from '../../src/crypto/bytes.ts'
import { EventHub } from '../../src/events/hub.ts'
import { Ledger, makeGenesis } from '../../src/ledger/ledger.ts'
import { EventSchema, EventType, InterestSchema, type Event } from '../../src/protos/events_pb.ts'
import { memoryStore } from '../../src/storage/memory.ts'
import { serveEventStream } from '../../src/events/session.ts'
import { dialLibp2pEvents, serveLibp2pEvents } from '../../src/transport/libp2p-events.ts'
import { createNodeLibp2p, type NodeLibp2p } from '../../node/libp2p/create-node.ts'

const nodes: NodeLibp2p[] = []
afterAll(async () => { for (const n of nodes) await n.stop() })

const register = (...types: EventType[]): Event => create(EventSchema, {
  Event: { case: 'register', value: { events: types.map(eventType => create(InterestSchema, { eventType })) } }
})

describe('event hub over libp2p (/weft/events/0.6.1)', () => {
  it('acknowledges a registration by echoing it, then streams matching events', async () => {
    const [server, client] = await Promise.all([0, 1].map(() => createNodeLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'] })))
    nodes.push(server, client)
    const ledger = await Ledger.open(await memoryStore())
    await makeGenesis(ledger)
    const hub = new EventHub({ bufferSize: 100, timeoutMs: 10 })
    hub.attachLedger(ledger)
    await serveLibp2pEvents(server, stream => serveEventStream(hub, stream))

    const stream = await dialLibp2pEvents(client, server.getMultiaddrs()[0].toString())
    const reg = register(EventType.BLOCK, EventType.REJECTION)
    await stream.send(reg)
    const ack = await stream.recv()
    expect(ack?.Event.case).toBe('register')
    expect(ack).toEqual(reg)

    ledger.beginTxBatch(1)
    ledger.txBegin('t1')
    await ledger.setState('mycc', 'a', utf8('1'))
    ledger.txFinished('t1', true)
    await ledger.commitTxBatch(1, [], undefined)
    const block = await stream.recv()
    expect(block?.Event.case).toBe('block')
    if (block?.Event.case === 'block') expect(block.Event.value.stateHash).toEqual((await ledger.getBlockByNumber(1))!.stateHash)

    // Anything but register/unregister from a client ends the conversation with an error.
    await stream.send(block!)
    await expect(stream.recv()).rejects.toThrow()
    await stream.close()
    hub.close()
  })
})
