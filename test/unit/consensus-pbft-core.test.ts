// Fabric 0.6.1's pbft-core_test.go cases that drive one replica's core directly (the network
// cases are simulations in test/sim/pbft-fabric.test.ts). Named after the Fabric tests.
import { describe, expect, it } from 'vitest'
import { toBase64, utf8 } from '../../src/crypto/bytes.ts'
import { batchDigest, decodePbftMessage, encodePbftMessage, PbftDecodeError, type NewView, type ViewChange } from '../../src/consensus/pbft/messages.ts'
import { assignSequenceNumbers, selectInitialCheckpoint } from '../../src/consensus/pbft/newview.ts'
import { PbftStore } from '../../src/consensus/pbft/persist.ts'
import { create, toBinary } from '@bufbuild/protobuf'
import { messageSchema } from '../../src/protos/pbft_pb.ts'
import { setLogLevel } from '../../src/util/logger.ts'
import { Prng } from '../sim/prng.ts'
import { mapPersistor, mockCore, reqBatch, type MockCore } from './consensus-pbft-mock.ts'

setLogLevel('silent')

const vc = (replicaId: number, h: number, cset: Array<[number, string]>, extra: Partial<ViewChange> = {}): ViewChange =>
  ({ view: 1, h, cset: cset.map(([seqNo, id]) => ({ seqNo, id })), pset: [], qset: [], replicaId, signature: new Uint8Array(0), ...extra })

/** A certificate with a null pre-prepare, three prepares and three commits in view 0 (Fabric's fixtures). */
function committedNull (m: MockCore, n: number): void {
  m.state.recordPrePrepare({ view: 0, seqNo: n, digest: '', replicaId: 0 })
  for (const r of [1, 2, 3]) m.state.recordPrepare({ view: 0, seqNo: n, digest: '', replicaId: r })
  for (const r of [0, 1, 2]) m.state.recordCommit({ view: 0, seqNo: n, digest: '', replicaId: r })
}

/** The new-view of view 1 (from its primary, replica 1) arrives; returns what it leads to at once. */
const newView1 = (m: MockCore, vset: ViewChange[], xset: NewView['xset']) =>
  m.core.processEvent({ kind: 'newView', msg: { view: 1, vset, xset, replicaId: 1 } })

describe('PBFT core (Fabric pbft-core_test.go)', () => {
  it('TestMaliciousPrePrepare: a pre-prepare whose batch does not hash to its digest is ignored', () => {
    const m = mockCore(1)
    m.send({ kind: 'prePrepare', msg: { view: 0, seqNo: 1, digest: batchDigest(reqBatch(1, 1)), batch: reqBatch(1, 2), replicaId: 0 } })
    expect(m.broadcasts).toEqual([])
    expect(m.state.certAt(0, 1)?.prePrepare).toBeUndefined()
    // The honest version is taken and prepared.
    m.send({ kind: 'prePrepare', msg: { view: 0, seqNo: 1, digest: batchDigest(reqBatch(1, 2)), batch: reqBatch(1, 2), replicaId: 0 } })
    expect(m.broadcasts.map(b => b.type)).toEqual(['prepare'])
  })

  it('TestWrongReplicaID: a message naming another replica than the connection it came on is dropped', () => {
    const m = mockCore(0)
    const batch = reqBatch(1, 1)
    const pp = { type: 'prePrepare' as const, msg: { view: 0, seqNo: 1, digest: batchDigest(batch), batch, replicaId: 1 } }
    expect(m.core.processEvent({ kind: 'message', msg: pp, sender: 2 })).toBeUndefined()
    expect(m.core.processEvent({ kind: 'message', msg: pp, sender: 1 })).toEqual({ kind: 'prePrepare', msg: pp.msg })
  })

  it('TestIncompletePayload: empty and zero-valued messages change nothing', () => {
    const m = mockCore(1, { config: { N: 5 } })
    expect(() => decodePbftMessage(toBinary(messageSchema, create(messageSchema)))).toThrow(PbftDecodeError)
    m.send({ kind: 'message', msg: decodePbftMessage(encodePbftMessage({ type: 'prePrepare', msg: { view: 0, seqNo: 0, digest: '', replicaId: 3 } })), sender: 3 })
    expect(m.broadcasts).toEqual([])
    expect(m.state.certStore.size).toBe(0)
  })

  it('TestSendQueueThrottling: the primary stops pre-preparing past h + L/2', () => {
    const m = mockCore(0, { config: { K: 2, logMultiplier: 2 } })
    for (let j = 0; j < 4; j++) m.send({ kind: 'requestBatch', batch: reqBatch(j) })
    expect(m.broadcasts.filter(b => b.type === 'prePrepare')).toHaveLength(2)
    expect(m.state.outstandingReqBatches.size).toBe(4)
  })

  it('TestWitnessCheckpointOutOfBounds: tracking checkpoints above the window survives a watermark move', () => {
    const m = mockCore(1, { config: { K: 2, logMultiplier: 2 } })
    m.send({ kind: 'checkpoint', msg: { seqNo: 6, replicaId: 0, id: '' } })
    m.state.moveWatermarks(6)
    m.send({ kind: 'checkpoint', msg: { seqNo: 10, replicaId: 3, id: '' } })
    expect(m.state.skipInProgress).toBe(false)
  })

  it('TestWitnessFallBehindMissingPrePrepare: a commit with no pre-prepare is garbage collected cleanly', () => {
    const m = mockCore(1, { config: { K: 2, logMultiplier: 2 } })
    m.send({ kind: 'commit', msg: { view: 0, seqNo: 2, digest: '', replicaId: 0 } })
    expect(m.state.certStore.size).toBe(1)
    m.state.moveWatermarks(6)
    expect(m.state.certStore.size).toBe(0)
  })

  it('TestViewChangeWatermarksMovement: a new view based on checkpoint 10 moves h to 10 without state transfer', () => {
    const m = mockCore(0)
    for (let n = 1; n <= 10; n++) {
      m.state.startExecution(n)
      m.state.markExecuted()
    }
    m.state.startViewChange(1)
    expect(m.state.h).toBe(0)
    const vset = [0, 1, 2].map(r => vc(r, 5, [[10, 'ten']]))
    expect(newView1(m, vset, new Map([[11, '']]))).toEqual({ kind: 'viewChanged' })
    expect(m.state.h).toBe(10)
    expect(m.skips).toEqual([])
  })

  it('TestViewChangeCheckpointSelection: S (low watermarks) and S\' (vouchers) are not conflated', () => {
    const vset = [vc(0, 5, [[10, 'ten']]), vc(1, 5, [[10, 'ten']]), vc(2, 10, [[15, 'fifteen']])]
    const cp = selectInitialCheckpoint(vset, { f: 1, quorum: 3, L: 40 })
    expect(cp?.checkpoint).toEqual({ seqNo: 10, id: 'ten' })
    expect(cp?.replicas).toEqual([0, 1])
  })

  it('TestViewWithOldSeqNos: assignments at or below h leave no certificates behind', () => {
    const m = mockCore(3, { lastExec: 10 })
    m.state.startViewChange(1)
    expect(m.state.h).toBe(10)
    const pq = [{ seqNo: 9, digest: 'nine', view: 0 }, { seqNo: 2, digest: 'two', view: 0 }]
    const vset = [0, 1, 2].map(r => vc(r, 0, [[0, toBase64(utf8('Zero'))]], { pset: pq, qset: pq }))
    const xset = assignSequenceNumbers(vset, 0, { f: 1, quorum: 3, L: 40 })!
    expect([...xset]).toEqual([[1, ''], [2, 'two'], [3, ''], [4, ''], [5, ''], [6, ''], [7, ''], [8, ''], [9, 'nine']])
    expect(newView1(m, vset, xset)).toEqual({ kind: 'viewChanged' })
    for (const cert of m.state.certStore.values()) expect(cert.seqNo).toBeGreaterThan(m.state.h)
  })

  it('TestViewChangeCannotExecuteToCheckpoint: missing commit certificates below the new checkpoint mean state transfer', () => {
    const m = mockCore(3, { lastExec: 9 })
    m.state.startViewChange(1)
    m.state.startExecution(6)
    for (let n = 0; n < 10; n++) committedNull(m, n)
    const vset = [0, 1, 2].map(r => vc(r, 10, [[10, toBase64(utf8('Ten'))]]))
    expect(newView1(m, vset, new Map([[11, '']]))).toEqual({ kind: 'viewChanged' })
    expect(m.state.skipInProgress).toBe(true)
  })

  it('TestViewChangeCanExecuteToCheckpoint: with every commit certificate it executes up to the checkpoint, then enters the view', () => {
    const m = mockCore(3, { lastExec: 5 })
    m.state.startViewChange(1)
    m.state.startExecution(6)
    for (let n = 7; n <= 10; n++) committedNull(m, n)
    const vset = [0, 1, 2].map(r => vc(r, 10, [[10, toBase64(utf8('Ten'))]]))
    expect(newView1(m, vset, new Map([[11, '']]))).toBeUndefined()
    m.send({ kind: 'execDone' })
    expect(m.state.activeView).toBe(true)
    expect(m.state.lastExec).toBe(10)
    expect(m.skips).toEqual([])
  })

  it('TestViewChangeDuringExecution: state transfer for the new view waits for the running execution', () => {
    const m = mockCore(3, { lastExec: 1 })
    m.state.startViewChange(1)
    m.state.startExecution(2)
    const vset = [0, 1, 2].map(r => vc(r, 90, [[100, toBase64(utf8('onehundred'))]]))
    expect(newView1(m, vset, new Map([[101, '']]))).toEqual({ kind: 'viewChanged' })
    expect(m.skips).toEqual([])
    m.send({ kind: 'execDone' })
    expect(m.skips.map(t => t.seqNo)).toEqual([100])
  })

  it('TestStateTransferCheckpoint: finishing state transfer to a checkpoint broadcasts our checkpoint', () => {
    const m = mockCore(3)
    m.send({ kind: 'stateUpdated', target: { seqNo: 10, id: utf8('My ID'), replicas: [] }, info: undefined as never })
    expect(m.broadcasts).toEqual([])
    m.send({ kind: 'stateUpdated', target: { seqNo: 10, id: utf8('My ID'), replicas: [] }, info: {} as never })
    expect(m.broadcasts).toEqual([{ type: 'checkpoint', msg: { seqNo: 10, replicaId: 3, id: toBase64(utf8('My ID')) } }])
    expect(m.state.lastExec).toBe(10)
  })

  it('TestStateTransferredToOldPoint: a transfer that fell short retries towards the highest target', () => {
    const m = mockCore(3)
    m.state.moveWatermarks(90)
    m.state.updateHighStateTarget({ seqNo: 100, id: utf8('onehundred'), replicas: [] })
    m.send({ kind: 'stateUpdated', target: { seqNo: 10, id: new Uint8Array(0), replicas: [] }, info: undefined })
    expect(m.skips.map(t => t.seqNo)).toEqual([100])
  })

  it('TestStateNetworkMovesOnDuringSlowStateTransfer: a replica in state transfer keeps its watermarks with the network', () => {
    const m = mockCore(3)
    m.state.markOutOfDate()
    for (let r = 0; r < 3; r++) m.send({ kind: 'checkpoint', msg: { seqNo: 20, replicaId: r, id: toBase64(utf8('twenty')) } })
    expect(m.state.h).toBe(20)
    expect(m.skips.map(t => t.seqNo)).toEqual([20])
  })

  it('TestCheckpointDiffersFromWeakCert: a weak certificate against our own checkpoint is fatal', () => {
    const m = mockCore(3, { stack: { getState: () => utf8('WRONG') } })
    // Replica 3 orders and executes null requests 1..10 with the others, then checkpoints 10.
    for (let n = 1; n <= 10; n++) {
      const slot = { view: 0, seqNo: n, digest: '' }
      m.send({ kind: 'prePrepare', msg: { ...slot, replicaId: 0 } })
      for (const r of [1, 2]) m.send({ kind: 'prepare', msg: { ...slot, replicaId: r } })
      for (const r of [0, 1]) m.send({ kind: 'commit', msg: { ...slot, replicaId: r } })
    }
    expect(m.state.chkpts.get(10)).toBe(toBase64(utf8('WRONG')))
    for (let r = 0; r < 2; r++) m.send({ kind: 'checkpoint', msg: { seqNo: 10, replicaId: r, id: 'CORRECT' } })
    expect(m.fatals.map(e => e.message)).toEqual([expect.stringContaining('different from weak checkpoint certificate')])
    expect(m.state.highStateTarget).toBeUndefined()
  })

  it('TestNoCheckpointQuorum: more than f+1 different checkpoint values is fatal', () => {
    const m = mockCore(3)
    for (let r = 0; r < 3; r++) m.send({ kind: 'checkpoint', msg: { seqNo: 10, replicaId: r, id: String(r) } })
    expect(m.fatals.map(e => e.message)).toEqual([expect.stringContaining('unable to find stable certificate')])
  })

  it('a replica repeating itself with other checkpoint values cannot make the network look split', () => {
    const m = mockCore(3)
    for (let i = 0; i < 5; i++) m.send({ kind: 'checkpoint', msg: { seqNo: 10, replicaId: 0, id: String(i) } })
    expect(m.fatals).toEqual([])
    expect(m.state.checkpointStore.size).toBe(1)
  })

  it('a batch at two sequence numbers stays pre-prepared at the higher one when the watermark passes the lower (view-change safety)', () => {
    const m = mockCore(1, { config: { K: 2, logMultiplier: 4 } })
    const batch = reqBatch(1)
    const d = batchDigest(batch)
    for (const n of [1, 6]) {
      m.send({ kind: 'prePrepare', msg: { view: 0, seqNo: n, digest: d, batch, replicaId: 0 } })
      m.send({ kind: 'prepare', msg: { view: 0, seqNo: n, digest: d, replicaId: 2 } })
    }
    m.state.moveWatermarks(4)
    expect(m.state.prePrepared(d, 0, 6)).toBe(true)
    expect(m.state.prepared(d, 0, 6)).toBe(true)
    m.state.moveWatermarks(6)
    expect(m.state.reqBatchStore.has(d)).toBe(false)
  })

  it('TestReplicaPersistQSet: a restarted replica still knows what it pre-prepared', async () => {
    const persistor = mapPersistor()
    const batch = reqBatch(1)
    const m = mockCore(1, { persistor })
    m.send({ kind: 'prePrepare', msg: { view: 0, seqNo: 1, digest: batchDigest(batch), batch, replicaId: 0 } })
    const persisted = await PbftStore.load(persistor)
    const restarted = mockCore(1, { persistor, persisted })
    expect(restarted.state.prePrepared(batchDigest(batch), 0, 1)).toBe(true)
    expect(restarted.state.prePrepared(batchDigest(batch), 1, 1)).toBe(false)
  })

  it('TestReplicaPersistDelete: a deleted request batch leaves nothing persisted', () => {
    const persistor = mapPersistor()
    const store = new PbftStore(persistor)
    store.storeRequestBatch('a', reqBatch(1))
    expect(persistor.map.size).toBe(1)
    store.delRequestBatch('a')
    expect(persistor.map.size).toBe(0)
  })

  it('TestReplicaCrash4 (core): checkpoints restored from persistence put h back on the last stable checkpoint', async () => {
    const persistor = mapPersistor()
    const store = new PbftStore(persistor)
    store.storeCheckpoint(8, utf8('eight'))
    const m = mockCore(0, { persistor, persisted: await PbftStore.load(persistor), lastExec: 9, config: { K: 2, logMultiplier: 2 } })
    expect(m.state.h).toBe(8)
    expect(m.state.chkpts.get(8)).toBe(toBase64(utf8('eight')))
  })

  it('TestNilCurrentExec: an execution finishing that was never started flags the replica out of date', () => {
    const m = mockCore(1)
    expect(() => m.send({ kind: 'execDone' })).not.toThrow()
    expect(m.state.skipInProgress).toBe(true)
  })

  it('TestRequestTimerDuringViewChange: new requests do not restart the timer of a view change in progress', () => {
    const resets: string[] = []
    const m = mockCore(1, {
      config: { K: 2, logMultiplier: 2 },
      createTimer: () => ({ softReset: () => resets.push('soft'), reset: () => resets.push('hard'), stop () {} })
    })
    m.state.startViewChange(1)
    m.send({ kind: 'requestBatch', batch: reqBatch(1, 1) })
    expect(resets).toEqual([])
    expect(m.broadcasts).toEqual([])
  })

  it('TestFuzz: random messages from any replica never break a primary or a backup', () => {
    const prng = new Prng(7)
    const small = (): number => prng.int(12)
    const digests = ['', batchDigest(reqBatch(1)), 'x']
    const pq = () => Array.from({ length: prng.int(3) }, () => ({ seqNo: small(), digest: prng.pick(digests), view: small() }))
    const vcOf = (): ViewChange => ({ view: small(), h: small(), cset: Array.from({ length: prng.int(3) }, () => ({ seqNo: small(), id: prng.pick(['', 'AAAA', '!!']) })), pset: pq(), qset: pq(), replicaId: prng.int(4), signature: new Uint8Array(0) })
    const structured = (): Uint8Array => {
      const base = { view: small(), seqNo: small(), digest: prng.pick(digests), replicaId: prng.int(4) }
      switch (prng.int(7)) {
        case 0: return encodePbftMessage({ type: 'prePrepare', msg: { ...base, batch: prng.chance(0.5) ? reqBatch(1) : undefined } })
        case 1: return encodePbftMessage({ type: 'prepare', msg: base })
        case 2: return encodePbftMessage({ type: 'commit', msg: base })
        case 3: return encodePbftMessage({ type: 'checkpoint', msg: { seqNo: small(), replicaId: base.replicaId, id: prng.pick(['', 'AAAA']) } })
        case 4: return encodePbftMessage({ type: 'viewChange', msg: vcOf() })
        case 5: return encodePbftMessage({ type: 'newView', msg: { view: small(), vset: Array.from({ length: prng.int(4) }, vcOf), xset: new Map([[small(), prng.pick(digests)]]), replicaId: base.replicaId } })
        default: return encodePbftMessage({ type: 'requestBatch', batch: reqBatch(small()) })
      }
    }
    for (const id of [0, 1]) {
      const m = mockCore(id)
      for (let i = 0; i < 1000; i++) {
        const bytes = prng.chance(0.3) ? Uint8Array.from({ length: prng.int(80) }, () => prng.int(256)) : structured()
        let msg
        try {
          msg = decodePbftMessage(bytes)
        } catch (err) {
          expect(err).toBeInstanceOf(PbftDecodeError)
          continue
        }
        const sender = 'msg' in msg ? msg.msg.replicaId % 4 : prng.int(4)
        expect(() => m.send({ kind: 'message', msg, sender })).not.toThrow()
      }
      expect(m.fatals).toEqual([])
    }
  })
})
