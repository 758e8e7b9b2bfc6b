// Fabric 0.6.1's tests of PBFT's parts: config (pbft-core_test.go), broadcast (broadcast_test.go),
// request store (requeststore_test.go); plus the message codec's range checks.
import { create } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { utf8 } from '../../src/crypto/bytes.ts'
import { ConsensusConfigError } from '../../src/consensus/config-source.ts'
import type { Communicator } from '../../src/consensus/interfaces.ts'
import { loadNoopsConfig } from '../../src/consensus/noops/config.ts'
import { Broadcaster } from '../../src/consensus/pbft/broadcast.ts'
import { allPbftExtensions, defaultPbftConfig, fabricRulesOnly, loadPbftConfig } from '../../src/consensus/pbft/config.ts'
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

describe('PBFT config (Fabric TestConfigSet and the env override tests)', () => {
  it('TestConfigSet: every key of config.yaml has Fabric\'s default', () => {
    expect(loadPbftConfig()).toEqual({
      mode: 'batch', N: 4, f: 1, K: 10, logMultiplier: 4, batchSize: 500, byzantine: false, viewChangePeriod: 0,
      timeouts: { batch: 1000, request: 2000, viewChange: 2000, resendViewChange: 2000, nullRequest: 0, broadcast: 1000 },
      executorQueueSize: 30,
      extensions: allPbftExtensions
    })
  })

  it('TestEnvOverride: CORE_PBFT_GENERAL_MODE is read (and only batch mode exists)', () => {
    expect(() => loadPbftConfig({ env: { CORE_PBFT_GENERAL_MODE: 'overide_test' } })).toThrow(/Invalid PBFT mode: overide_test/)
    expect(loadPbftConfig({ env: { CORE_PBFT_GENERAL_MODE: 'BATCH' } }).mode).toBe('batch')
  })

  it('TestIntEnvOverride', () => {
    const cases: Array<[string, string, keyof typeof defaultPbftConfig, number]> = [
      ['CORE_PBFT_GENERAL_N', '8', 'N', 8], ['CORE_PBFT_GENERAL_F', '2', 'f', 2], ['CORE_PBFT_GENERAL_K', '20', 'K', 20],
      ['CORE_PBFT_GENERAL_LOGMULTIPLIER', '6', 'logMultiplier', 6], ['CORE_PBFT_GENERAL_BATCHSIZE', '200', 'batchSize', 200],
      ['CORE_PBFT_GENERAL_VIEWCHANGEPERIOD', '5', 'viewChangePeriod', 5], ['CORE_PBFT_EXECUTOR_QUEUESIZE', '50', 'executorQueueSize', 50]
    ]
    for (const [env, value, key, expected] of cases) {
      const extra = env === 'CORE_PBFT_GENERAL_F' ? { CORE_PBFT_GENERAL_N: '7' } : {}
      expect(loadPbftConfig({ env: { [env]: value, ...extra } })[key]).toBe(expected)
    }
  })

  it('Weft key weft.disable switches PBFT extensions off by name, or all of them (Fabric\'s rules only)', () => {
    expect(loadPbftConfig().extensions).toEqual(allPbftExtensions)
    expect(loadPbftConfig({ env: { CORE_PBFT_WEFT_DISABLE: 'executeOnce, retransmit' } }).extensions)
      .toEqual({ ...allPbftExtensions, executeOnce: false, retransmit: false })
    expect(loadPbftConfig({ values: { weft: { disable: ['all'] } } }).extensions).toEqual(fabricRulesOnly)
    expect(() => loadPbftConfig({ env: { CORE_PBFT_WEFT_DISABLE: 'viewsync' } })).toThrow(/unknown PBFT extension "viewsync"/)
  })

  it('TestDurationEnvOverride', () => {
    const t = loadPbftConfig({
      env: {
        CORE_PBFT_GENERAL_TIMEOUT_BATCH: '2s',
        CORE_PBFT_GENERAL_TIMEOUT_REQUEST: '4s',
        CORE_PBFT_GENERAL_TIMEOUT_VIEWCHANGE: '5s',
        CORE_PBFT_GENERAL_TIMEOUT_RESENDVIEWCHANGE: '200ms',
        CORE_PBFT_GENERAL_TIMEOUT_NULLREQUEST: '1m',
        CORE_PBFT_GENERAL_TIMEOUT_BROADCAST: '1m'
      }
    }).timeouts
    expect(t).toEqual({ batch: 2000, request: 4000, viewChange: 5000, resendViewChange: 200, nullRequest: 60_000, broadcast: 60_000 })
  })

  it('TestBoolEnvOverride', () => {
    for (const [v, expected] of [['false', false], ['0', false], ['true', true], ['1', true]] as const) {
      expect(loadPbftConfig({ env: { CORE_PBFT_GENERAL_BYZANTINE: v } }).byzantine).toBe(expected)
    }
    expect(() => loadPbftConfig({ env: { CORE_PBFT_GENERAL_BYZANTINE: 'yes' } })).toThrow(/CORE_PBFT_GENERAL_BYZANTINE: "yes" is not a boolean/)
  })

  it('file values sit under the environment; bad values name their key', () => {
    const values = { general: { N: 7, f: 2, timeout: { request: '3s' } } }
    expect(loadPbftConfig({ values }).N).toBe(7)
    expect(loadPbftConfig({ values, env: { CORE_PBFT_GENERAL_N: '10' } }).N).toBe(10)
    expect(() => loadPbftConfig({ env: { CORE_PBFT_GENERAL_N: 'four' } })).toThrow(/CORE_PBFT_GENERAL_N: "four" is not an integer/)
    expect(() => loadPbftConfig({ values: { general: { timeout: { request: '500' } } } })).toThrow(/general.timeout.request: "500" is not a duration/)
    expect(() => loadPbftConfig({ env: { CORE_PBFT_GENERAL_N: '3' } })).toThrow(ConsensusConfigError)
    expect(() => loadPbftConfig({ env: { CORE_PBFT_GENERAL_LOGMULTIPLIER: '1' } })).toThrow(/logmultiplier must be at least 2/)
  })

  it('Fabric\'s timeout adjustments: request above batch, null request above request', () => {
    const t = loadPbftConfig({ env: { CORE_PBFT_GENERAL_TIMEOUT_BATCH: '2s', CORE_PBFT_GENERAL_TIMEOUT_NULLREQUEST: '1s' } }).timeouts
    expect(t.request).toBe(3000)
    expect(t.nullRequest).toBe(4500)
    expect(loadPbftConfig({ env: { CORE_PBFT_GENERAL_TIMEOUT_NULLREQUEST: 'soon' } }).timeouts.nullRequest).toBe(0)
  })

  it('noops: block.size and block.wait, a bare wait in seconds, and 0 for cut-when-idle', () => {
    expect(loadNoopsConfig()).toMatchObject({ blockSize: 500, blockWaitMs: 1000 })
    expect(loadNoopsConfig({ env: { CORE_NOOPS_BLOCK_SIZE: '2', CORE_NOOPS_BLOCK_WAIT: '3' } })).toMatchObject({ blockSize: 2, blockWaitMs: 3000 })
    expect(loadNoopsConfig({ values: { block: { wait: '250ms' } } }).blockWaitMs).toBe(250)
    expect(loadNoopsConfig({ env: { CORE_NOOPS_BLOCK_WAIT: '0' } }).blockWaitMs).toBe(0)
    expect(() => loadNoopsConfig({ env: { CORE_NOOPS_BLOCK_SIZE: '0' } })).toThrow(/CORE_NOOPS_BLOCK_SIZE: block size must be > 0/)
  })

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
    // Each stuck send is abandoned after the broadcast timeout, and the lane moves on.
    await sched.runFor(5000)
    expect(sent.filter(s => s.startsWith('vp0')).length).toBe(6)
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

  it('a full lane drops and says so instead of growing without bound', async () => {
    const sent: string[] = []
    const { sched, b } = setup((_m, to) => { sent.push(to.name); return new Promise(() => {}) }, 3)
    for (let i = 0; i < 10; i++) b.unicast(msg(String(i)), 0)
    await sched.runFor(10_000)
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
