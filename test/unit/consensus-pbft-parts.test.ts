// Fabric 0.6.1's tests of PBFT's parts: broadcast (broadcast_test.go), request store
// (requeststore_test.go); plus replica ids and the message codec's range checks. The config's
// tests are in config-consensus.test.ts.
import { create } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { utf8 } from '../../src/crypto/bytes.ts'
import type { Communicator } from '../../src/consensus/interfaces.ts'
import { Broadcaster } from '../../src/consensus/pbft/broadcast.ts'
import { decodePbftMessage, PbftDecodeError } from '../../src/consensus/pbft/messages.ts'
import { OrderedRequests, RequestStore } from '../../src/consensus/pbft/requeststore.ts'
import { handle, replicaIdOf } from '../../src/consensus/validators.ts'
import { MessageSchema, type Message, type PeerID } from '../../src/protos/fabric_pb.ts'
import { messageSchema } from '../../src/protos/pbft_pb.ts'
import { toBinary } from '@bufbuild/protobuf'
import { setLogLevel } from '../../src/util/logger.ts'
import { VirtualScheduler } from '../sim/scheduler.ts'
import { reqBatch } from './consensus-pbft-mock.ts'

setLogLevel('silent')

describe('validators', () => {
  it('replica ids come from vpN names', () => {
    expect(replicaIdOf('vp3')).toBe(3)
    expect(() => replicaIdOf('peer3')).toThrow(/set peer.id to vpN/)
  })
})

describe('Broadcaster (Fabric broadcast_test.go)', () => {
  const msg = (payload: string): Message => create(MessageSchema, { payload: utf8(payload) })
  function setup (unicast: (msg: Message, to: PeerID) => Promise<void>, queueSize = 10) {
    const sched = new VirtualScheduler()
    const comm: Communicator = { unicast, broadcast: async () => {} }
    const b = new Broadcaster({ self: 1, N: 4, timeoutMs: 1000, queueSize }, { communicator: comm, timers: sched, handleOf: r => handle(`vp${r}`) })
    return { sched, b }
  }

  it('TestBroadcast: one message reaches every other replica once', async () => {
    const sent: string[] = []
    const { sched, b } = setup(async (_m, to) => { sent.push(to.name) })
    b.broadcast(msg('hi'))
    await sched.runFor(100)
    expect(sent.sort()).toEqual(['vp0', 'vp2', 'vp3'])
  })

  it('TestBroadcastUnicast: a unicast goes to that replica only', async () => {
    const sent: string[] = []
    const { sched, b } = setup(async (_m, to) => { sent.push(to.name) })
    b.unicast(msg('hi'), 0)
    await sched.runFor(100)
    expect(sent).toEqual(['vp0'])
  })

  it('TestBroadcastStuck / TestBroadcastIndefinitelyStuck: a replica that never acknowledges delays only its own lane', async () => {
    const sent: string[] = []
    const { sched, b } = setup((m, to) => {
      sent.push(`${to.name}:${new TextDecoder().decode(m.payload)}`)
      return to.name === 'vp0' ? new Promise(() => {}) : Promise.resolve()
    }, 100)
    for (let i = 0; i < 20; i++) b.broadcast(msg(String(i)))
    await sched.runFor(100)
    expect(sent.filter(s => s.startsWith('vp2')).length).toBe(20)
    expect(sent.filter(s => s.startsWith('vp0')).length).toBe(1)
    // As Fabric's drainer blocks on its send, the lane waits: nothing goes past the stuck message into the connection.
    await sched.runFor(5000)
    expect(sent.filter(s => s.startsWith('vp0')).length).toBe(1)
  })

  /** Payloads as vp0 gets them; its first send waits for release(), so everything after it queues. */
  function slowFirstSend (queueSize?: number) {
    const sent: string[] = []
    let release = (): void => {}
    const { sched, b } = setup(async (m, to) => {
      if (to.name !== 'vp0') return
      sent.push(new TextDecoder().decode(m.payload))
      if (sent.length === 1) await new Promise<void>(resolve => { release = resolve })
    }, queueSize)
    return { sent, sched, b, release: () => release() }
  }

  it('requests wait behind protocol messages, and a full request queue drops requests only', async () => {
    const { sent, sched, b, release } = slowFirstSend(3)
    const needed = (): boolean => true
    b.unicast(msg('r0'), 0, needed)
    for (let i = 1; i <= 5; i++) b.unicast(msg(`r${i}`), 0, needed)
    b.unicast(msg('commit'), 0)
    b.unicast(msg('checkpoint'), 0)
    await sched.runFor(10)
    release()
    await sched.runFor(10)
    expect(sent).toEqual(['r0', 'commit', 'checkpoint', 'r1', 'r2', 'r3'])
  })

  it('a request no longer needed when its turn comes is not sent', async () => {
    const { sent, sched, b, release } = slowFirstSend()
    const executed = new Set<string>()
    for (const r of ['r0', 'r1', 'r2', 'r3']) b.unicast(msg(r), 0, () => !executed.has(r))
    await sched.runFor(10)
    executed.add('r1')
    executed.add('r3')
    release()
    await sched.runFor(10)
    expect(sent).toEqual(['r0', 'r2'])
  })

  it('TestBroadcastAllFail: failing sends are reported, not thrown, and later sends still go', async () => {
    let fail = true
    const sent: string[] = []
    const { sched, b } = setup(async (_m, to) => { if (fail) throw new Error('not connected'); sent.push(to.name) })
    b.broadcast(msg('a'))
    await sched.runFor(10)
    fail = false
    b.broadcast(msg('b'))
    await sched.runFor(10)
    expect(sent.sort()).toEqual(['vp0', 'vp2', 'vp3'])
  })

  /** A communicator whose replicas connect when the test says so. */
  function connecting () {
    const up = new Set<string>()
    const listeners = new Set<() => void>()
    const sent: string[] = []
    const sched = new VirtualScheduler()
    const comm: Communicator = {
      broadcast: async () => {},
      unicast: async (m, to) => {
        if (!up.has(to.name)) throw new Error(`Message handler not found for receiver ${to.name}`)
        sent.push(`${to.name}:${new TextDecoder().decode(m.payload)}`)
      },
      connected: to => up.has(to.name),
      onPeersChanged: l => { listeners.add(l); return () => listeners.delete(l) }
    }
    const b = new Broadcaster({ self: 1, N: 4, timeoutMs: 1000, queueSize: 10 }, { communicator: comm, timers: sched, handleOf: r => handle(`vp${r}`) })
    const connect = (name: string): void => { up.add(name); for (const l of [...listeners]) l() }
    return { sched, b, sent, connect, listeners }
  }

  it('holds what is sent to a replica still connecting and delivers it, in order, once it connects', async () => {
    const { sched, b, sent, connect, listeners } = connecting()
    connect('vp0')
    b.broadcast(msg('checkpoint'))
    b.unicast(msg('request'), 2, () => true)
    await sched.runFor(300)
    expect(sent).toEqual(['vp0:checkpoint'])
    connect('vp2')
    await sched.runFor(300)
    connect('vp3')
    await sched.runFor(10)
    expect(sent).toEqual(['vp0:checkpoint', 'vp2:checkpoint', 'vp2:request', 'vp3:checkpoint'])
    expect(listeners.size).toBe(0)
  })

  it('drops after timeout.broadcast for a replica that does not connect, then at once until it does', async () => {
    const { sched, b, sent, connect, listeners } = connecting()
    b.unicast(msg('a'), 0)
    await sched.runFor(1001)
    expect(listeners.size).toBe(0)
    b.unicast(msg('b'), 0)
    await sched.runFor(1)
    expect(listeners.size).toBe(0)
    connect('vp0')
    b.unicast(msg('c'), 0)
    await sched.runFor(1)
    expect(sent).toEqual(['vp0:c'])
  })

  it('stops waiting for replicas when stopped', async () => {
    const { sched, b, sent, connect, listeners } = connecting()
    b.broadcast(msg('a'))
    await sched.runFor(10)
    expect(listeners.size).toBe(3)
    b.stop()
    await sched.runFor(10)
    expect(listeners.size).toBe(0)
    connect('vp0')
    await sched.runFor(10)
    expect(sent).toEqual([])
  })

  it('a full lane drops and says so instead of growing without bound', async () => {
    const sent: string[] = []
    let stuck = true
    const releases: Array<() => void> = []
    const { sched, b } = setup(async (_m, to) => {
      sent.push(to.name)
      if (stuck) await new Promise<void>(resolve => { releases.push(resolve) })
    }, 3)
    for (let i = 0; i < 10; i++) b.unicast(msg(String(i)), 0)
    await sched.runFor(10_000)
    expect(sent.length).toBe(1)
    stuck = false
    releases[0]()
    await sched.runFor(10)
    expect(sent.length).toBe(4) // one in flight at a time, 3 waiting, 6 dropped
  })
})

describe('Request store (Fabric requeststore_test.go)', () => {
  it('TestOrderedRequests', () => {
    const or = new OrderedRequests()
    const [r1, r2, r3] = [reqBatch(2, 1).batch[0], reqBatch(2, 2).batch[0], reqBatch(19, 1).batch[0]]
    expect(or.add(r1)).toBe(true)
    expect(or.add(r1)).toBe(false)
    expect(or.remove(r2)).toBe(false)
    expect(or.remove(r1)).toBe(true)
    expect(or.remove(r1)).toBe(false)
    expect(or.size).toBe(0)
    for (const r of [r1, r2, r3]) or.add(r)
    expect([...or.entries()].map(([, r]) => r)).toEqual([r1, r2, r3])
  })

  it('outstanding but not pending requests come out oldest first', () => {
    const rs = new RequestStore()
    const reqs = [1, 2, 3, 4].map(i => reqBatch(i).batch[0])
    for (const r of reqs) rs.storeOutstanding(r)
    rs.storePending(reqs[1])
    expect(rs.hasNonPending()).toBe(true)
    expect(rs.nextNonPending(2)).toEqual([reqs[0], reqs[2]])
    expect(rs.remove(reqs[1])).toEqual({ outstanding: true, pending: true })
  })

  it('sees a non-pending request even when pending holds requests that are no longer outstanding', () => {
    const rs = new RequestStore()
    const reqs = [1, 2, 3].map(i => reqBatch(i).batch[0])
    rs.storeOutstanding(reqs[0])
    // A view change may mark as pending the requests of a batch already executed (so no longer outstanding).
    rs.storePendings([reqs[1], reqs[2]])
    expect(rs.hasNonPending()).toBe(true)
    expect(rs.nextNonPending(5)).toEqual([reqs[0]])
    rs.storePending(reqs[0])
    expect(rs.hasNonPending()).toBe(false)
  })
})

describe('PBFT message codec', () => {
  it('refuses numbers no honest replica sends and messages with no payload', () => {
    const big = toBinary(messageSchema, create(messageSchema, { payload: { case: 'prepare', value: { view: 2n ** 60n, sequenceNumber: 1n } } }))
    expect(() => decodePbftMessage(big)).toThrow(/prepare view 1152921504606846976 is out of range/)
    expect(() => decodePbftMessage(toBinary(messageSchema, create(messageSchema)))).toThrow(PbftDecodeError)
    expect(() => decodePbftMessage(Uint8Array.of(0xff, 0xff))).toThrow(/undecodable PBFT message/)
  })
})
