// A real Fabric 0.6.1 validator under security, recorded (test/fixtures/fabric-signing): Weft checks
// its HELLO and view-change signatures with its own code, and the recording shows Fabric took the
// HELLOs and view changes that Weft's code signed.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { decodeBatchMessage, decodePbftMessage, encodePbftMessage, viewChangeSigningBytes, type ViewChange } from '../../src/consensus/pbft/messages.ts'
import { fromBase64, fromHex, toHex } from '../../src/crypto/bytes.ts'
import { ecdsaVerify } from '../../src/crypto/fabric/ecdsa.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { parseCertificate } from '../../src/crypto/fabric/x509.ts'
import { loadConfig } from '../../src/config/load.ts'
import { withOverrides } from '../../src/config/overrides.ts'
import { HelloMessageSchema, MessageSchema, Message_Type, type Message } from '../../src/protos/fabric_pb.ts'
import type { Peer } from '../../src/peer/peer.ts'
import { fabricVerifier } from '../../src/security/fabric-verifier.ts'
import type { NodeSecurity } from '../../src/security/member.ts'
import { EnrollmentSigning } from '../../src/security/node-signing.ts'
import { memoryChatPair, MemoryNetwork } from '../../src/transport/memory.ts'
import { enrollInMemory, memoryMembershipServices } from '../helpers/secure-members.ts'
import { waitFor } from '../helpers/wait.ts'
import { memoryPeer } from './peer-helpers.ts'

interface Recorded { as: string, type: string, message: string }
const rec = JSON.parse(readFileSync(new URL('../fixtures/fabric-signing/fabric-vp0-hello-viewchange.json', import.meta.url), 'utf8')) as {
  level: number
  hashAlgorithm: string
  ecaRoot: string
  fabricEnrollmentCertificate: string
  weftPkiIDs: Record<string, string>
  sent: Recorded[]
  received: Recorded[]
}
const suite = cryptoSuite(rec.hashAlgorithm, rec.level)
const decode = (r: Recorded): Message => fromBinary(MessageSchema, fromBase64(r.message))
const fabricHello = decode(rec.received.find(r => r.type === 'DISC_HELLO')!)
const fabricEcert = fromBase64(rec.fabricEnrollmentCertificate)
const fabricPkiID = fromBinary(HelloMessageSchema, fabricHello.payload).peerEndpoint!.pkiID
const helloTime = Number(fabricHello.timestamp!.seconds) * 1000

function viewChanges (msgs: Message[]): ViewChange[] {
  const out: ViewChange[] = []
  for (const m of msgs.filter(m => m.type === Message_Type.CONSENSUS)) {
    const bm = decodeBatchMessage(m.payload)
    if (bm.type !== 'pbftMessage') continue
    const p = decodePbftMessage(bm.bytes)
    if (p.type === 'viewChange') out.push(p.msg)
  }
  return out
}

/** A Weft validator's security that trusts the recorded CA and reads Fabric's ECert by its pkiID, at the time of the recording. */
async function recordedSecurity (): Promise<NodeSecurity> {
  const own = await enrollInMemory(await memoryMembershipServices(), withOverrides(loadConfig(), { security: { enabled: true, enrollID: 'test_vp3', enrollSecret: '9LKqKH5peurL' } }))
  return {
    ...own,
    verifier: fabricVerifier(suite, { eca: [fromBase64(rec.ecaRoot)], tca: [] }, () => helloTime),
    enrollmentCertificate: async pkiID => {
      if (toHex(pkiID) !== toHex(fabricPkiID)) throw new Error('not in the recording')
      return fabricEcert
    }
  }
}

let peers: Peer[] = []
afterEach(async () => { await Promise.all(peers.map(async p => await p.stop())); peers = [] })

describe('Fabric 0.6.1 validator with security, recorded', () => {
  it('names itself by the hash of its ECert, which the recorded ECA issued', async () => {
    expect(toHex(fabricPkiID)).toBe(toHex(suite.hash(fabricEcert)))
    const verifier = fabricVerifier(suite, { eca: [fromBase64(rec.ecaRoot)], tca: [] }, () => helloTime)
    expect(() => { verifier.checkIssued(fabricEcert) }).not.toThrow()
  })

  it('signs HELLO over its payload with the ECert\'s key and nothing else it sends', () => {
    const key = parseCertificate(fabricEcert).publicKey
    expect(ecdsaVerify(suite, key, fabricHello.payload, fabricHello.signature)).toBe(true)
    const whole = toBinary(MessageSchema, create(MessageSchema, { ...fabricHello, signature: new Uint8Array(0) }))
    expect(ecdsaVerify(suite, key, whole, fabricHello.signature)).toBe(false)
    const others = rec.received.filter(r => r.type !== 'DISC_HELLO').map(decode)
    expect(others.map(m => Message_Type[m.type])).toContain('CONSENSUS')
    for (const m of others) expect(m.signature).toHaveLength(0)
  })

  it('is taken by a Weft peer under enrollment signing; the same HELLO altered is refused', async () => {
    const security = await recordedSecurity()
    const signing = new EnrollmentSigning(security)
    const peer = await memoryPeer(new MemoryNetwork(), 'vp3', { securityEnabled: true }, { signer: signing })
    peers.push(peer)
    const [mine, theirs] = memoryChatPair('vp0', 'vp3')
    void peer.handleChat(theirs, false).catch(() => {})
    const altered = fromBinary(HelloMessageSchema, fabricHello.payload)
    altered.blockchainInfo!.height = 7n
    await mine.send({ ...fabricHello, payload: toBinary(HelloMessageSchema, altered) })
    await mine.send(fabricHello)
    const reply = await mine.recv() as Message
    expect(reply.type).toBe(Message_Type.DISC_HELLO)
    await waitFor('vp0 registered', () => peer.peerIDs().includes('vp0'))
    expect(peer.getRemoteLedger('vp0').to()?.pkiID).toEqual(fabricPkiID)
    expect(fromBinary(HelloMessageSchema, reply.payload).peerEndpoint?.pkiID).toEqual(signing.pkiID)
    // Weft's HELLO is signed as Fabric verifies it: over the payload, with the ECert the pkiID names.
    expect(ecdsaVerify(suite, parseCertificate(security.self.enrollment.cert).publicKey, reply.payload, reply.signature)).toBe(true)
    expect(toHex(signing.pkiID)).toBe(toHex(suite.hash(security.self.enrollment.cert)))
  })

  it('signs its view change over the marshaled message without signature, which Weft re-encodes byte for byte and verifies', async () => {
    const received = rec.received.map(decode)
    const vcs = viewChanges(received)
    const first = vcs.find(vc => vc.view === 1)!
    expect(first).toMatchObject({ replicaId: 0, h: 0 })
    const raw = decodeBatchMessage(received.find(m => viewChanges([m]).length > 0)!.payload)
    expect(raw.type === 'pbftMessage' && toHex(encodePbftMessage({ type: 'viewChange', msg: first })) === toHex(raw.bytes)).toBe(true)

    const signing = new EnrollmentSigning(await recordedSecurity())
    expect(await signing.verify(fabricPkiID, fabricHello.payload, fabricHello.signature)).toBe(true) // as its HELLO did: ECert fetched
    const utils = signing.consensus('vp3', name => name === 'vp0' ? fabricPkiID : undefined)
    for (const vc of vcs) expect(() => { utils.verify({ name: 'vp0' } as never, vc.signature, viewChangeSigningBytes(vc)) }).not.toThrow()
    const forged = { ...first, h: 2 }
    expect(() => { utils.verify({ name: 'vp0' } as never, forged.signature, viewChangeSigningBytes(forged)) }).toThrow(/Invalid Signature/)
  })

  it('took Weft\'s signed HELLOs and view changes: its own view change for view 1 answered f+1 of them', () => {
    const sent = rec.sent.map(r => ({ as: r.as, m: decode(r) }))
    for (const { as, m } of sent.filter(s => s.m.type === Message_Type.DISC_HELLO)) {
      expect(fromBinary(HelloMessageSchema, m.payload).peerEndpoint?.pkiID).toEqual(fromHex(rec.weftPkiIDs[as]))
      expect(m.signature.length).toBeGreaterThan(0)
    }
    const weftVcs = viewChanges(sent.map(s => s.m))
    expect(weftVcs.map(vc => [vc.replicaId, vc.view])).toEqual([[1, 1], [2, 1]])
    for (const s of sent.filter(s => s.m.type === Message_Type.CONSENSUS)) expect(s.m.signature).toHaveLength(0)
    // Fabric answers each client's HELLO with its own, and sends view 1's view change only after
    // verifying two view changes for it (recvViewChange drops one whose signature fails).
    expect(rec.received.filter(r => r.type === 'DISC_HELLO').map(r => r.as).sort()).toEqual(['vp1', 'vp2'])
    expect(viewChanges(rec.received.map(decode)).some(vc => vc.view === 1 && vc.replicaId === 0)).toBe(true)
  })
})

