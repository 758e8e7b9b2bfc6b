// PBFT messages recorded from real Fabric 0.6.1 peers (test/fixtures/fabric-pbft/README.md says
// how): Weft decodes every one and encodes it back to the very same bytes, computes the same
// request-batch digests, and reads the checkpoint ids and view-changes as Fabric wrote them.
import { fromBinary } from '@bufbuild/protobuf'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  batchDigest, decodeBatchMessage, decodePbftMessage, encodePbftEnvelope, encodePbftMessage, encodeRequestMessage, type PbftMessage
} from '../../src/consensus/pbft/messages.ts'
import { fromBase64, toBase64 } from '../../src/crypto/bytes.ts'
import { BlockchainInfoSchema, TransactionSchema, Transaction_Type } from '../../src/protos/fabric_pb.ts'

interface Recording { recordedAs: string, messages: Array<{ from: string, payload: string }> }
const rec = JSON.parse(readFileSync(new URL('../fixtures/fabric-pbft/fabric-0.6.1-to-vp1.json', import.meta.url), 'utf8')) as Recording

const decoded = rec.messages.map(({ from, payload }) => {
  const bytes = fromBase64(payload)
  const bm = decodeBatchMessage(bytes)
  return { from, bytes, bm, pbft: bm.type === 'pbftMessage' ? decodePbftMessage(bm.bytes) : undefined }
})
const ofType = <T extends PbftMessage['type']>(t: T): Array<Extract<PbftMessage, { type: T }>> =>
  decoded.flatMap(d => d.pbft?.type === t ? [d.pbft as Extract<PbftMessage, { type: T }>] : [])

describe('PBFT messages from real Fabric 0.6.1 peers', () => {
  it('holds every kind a backup sees: requests, pre-prepares, prepares, commits, checkpoints, view-changes', () => {
    expect(rec.messages.length).toBeGreaterThan(30)
    expect(decoded.filter(d => d.bm.type === 'request').length).toBeGreaterThan(0)
    for (const t of ['prePrepare', 'prepare', 'commit', 'checkpoint', 'viewChange'] as const) expect(ofType(t).length, t).toBeGreaterThan(0)
  })

  it('re-encodes byte for byte', () => {
    for (const d of decoded) {
      if (d.bm.type === 'request') expect(toBase64(encodeRequestMessage(d.bm.request))).toBe(toBase64(d.bytes))
      else expect(toBase64(encodePbftEnvelope(encodePbftMessage(d.pbft!)))).toBe(toBase64(d.bytes))
    }
  })

  it('computes the digest Fabric put in each pre-prepare, and the batch carries client transactions', () => {
    for (const pp of ofType('prePrepare')) {
      expect(pp.msg.batch).toBeDefined()
      expect(batchDigest(pp.msg.batch!)).toBe(pp.msg.digest)
      for (const req of pp.msg.batch!.batch) expect(fromBinary(TransactionSchema, req.payload).type).toBe(Transaction_Type.CHAINCODE_INVOKE)
    }
    // Prepares and commits name the same digests.
    const digests = new Set(ofType('prePrepare').map(pp => `${pp.msg.seqNo}:${pp.msg.digest}`))
    for (const m of [...ofType('prepare'), ...ofType('commit')]) expect(digests.has(`${m.msg.seqNo}:${m.msg.digest}`)).toBe(true)
  })

  it('reads checkpoint ids as base64 BlockchainInfo, one block per sequence number here, the same from every replica', () => {
    const byN = new Map<number, Set<string>>()
    for (const cp of ofType('checkpoint')) {
      const info = fromBinary(BlockchainInfoSchema, fromBase64(cp.msg.id))
      expect(info.height).toBe(BigInt(cp.msg.seqNo + 1)) // genesis + one block per batch in this run
      expect(info.currentBlockHash.length).toBe(64)
      byN.set(cp.msg.seqNo, (byN.get(cp.msg.seqNo) ?? new Set()).add(cp.msg.id))
    }
    for (const ids of byN.values()) expect(ids.size).toBe(1)
  })

  it('reads a Fabric view-change: the new view, h, its checkpoint set and P/Q sets within the log (K 2, L 8)', () => {
    const vc = ofType('viewChange')[0].msg
    expect(vc.view).toBe(3)
    expect(vc.replicaId).toBe(0)
    expect(vc.cset.length).toBeGreaterThan(0)
    for (const c of vc.cset) expect(c.seqNo >= vc.h && c.seqNo <= vc.h + 8).toBe(true)
    for (const pq of [...vc.pset, ...vc.qset]) expect(pq.seqNo > vc.h && pq.seqNo <= vc.h + 8 && pq.view < vc.view).toBe(true)
    expect(vc.pset.length).toBeGreaterThan(0)
  })
})
