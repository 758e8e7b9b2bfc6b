// Validators enrolled with membership services on a memory network: they sign their messages
// (and PBFT's) with their enrollment keys and check each other's against the ECA's certificates;
// a validator that is not enrolled, or is enrolled as a client, gets no chat and no say; a
// transaction that reaches consensus unsigned is rejected where it is executed; and users sign at
// security.level 384 and with SHA2 as at 256 with SHA3.
import { create } from '@bufbuild/protobuf'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { MembershipServices } from '../../src/ca/membership.ts'
import { newExecuteTransaction } from '../../src/chaincode/transactions.ts'
import { loadConfig, withOverrides, type ConfigOverrides } from '../../src/config/index.ts'
import { utf8 } from '../../src/crypto/bytes.ts'
import { timestampAt } from '../../src/ledger/block.ts'
import type { PeerNode } from '../../src/peer-node.ts'
import { helloMessage } from '../../src/peer/messages.ts'
import { keySigner, signMessage } from '../../src/peer/security.ts'
import { ChaincodeInvocationSpecSchema, ChaincodeSpecSchema, ChaincodeSpec_Type, type ChaincodeSpec } from '../../src/protos/chaincode_pb.ts'
import { EventType, InterestSchema, type Event } from '../../src/protos/events_pb.ts'
import { BlockchainInfoSchema, MessageSchema, Message_Type, PeerEndpointSchema, PeerEndpoint_Type, Response_StatusCode, Transaction_Type, type Message } from '../../src/protos/fabric_pb.ts'
import { EnrollmentSigning } from '../../src/security/node-signing.ts'
import { signedTransactionBytes } from '../../src/security/transactions.ts'
import { ecdsaVerify } from '../../src/crypto/fabric/ecdsa.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { parseCertificate } from '../../src/crypto/fabric/x509.ts'
import { MemoryNetwork } from '../../src/transport/memory.ts'
import { captureLogs } from '../helpers/logs.ts'
import { enrollInMemory, memoryMembershipServices } from '../helpers/secure-members.ts'
import { waitFor } from '../helpers/wait.ts'
import { memoryNode } from './peer-helpers.ts'

const source = `
export function init (stub) { return stub.putState('n', '0') }
export async function invoke (stub) { const n = Number(new TextDecoder().decode(await stub.getState('n'))); await stub.putState('n', String(n + 1)) }
export async function query (stub) { return await stub.getState('n') }
`
const packageChaincode = async (): Promise<Uint8Array> => utf8(source)
const counter = (user: string): ChaincodeSpec => create(ChaincodeSpecSchema, { type: ChaincodeSpec_Type.NODE, chaincodeID: { path: 'counter' }, ctorMsg: { args: [utf8('init')] }, secureContext: user })
const invocation = (name: string, user: string) => create(ChaincodeInvocationSpecSchema, { chaincodeSpec: { type: ChaincodeSpec_Type.NODE, chaincodeID: { name }, ctorMsg: { args: [utf8('invoke')] }, secureContext: user } })
const secrets: Record<string, string> = { test_vp0: 'MwYpmSRjupbT', test_vp1: '5wgHK9qqYaPy', test_vp2: 'vQelbRvja7cJ', test_vp3: '9LKqKH5peurL', test_nvp0: 'iywrPBDEPl0K', jim: '6avZQLwcUe9b' }
const names = ['vp0', 'vp1', 'vp2', 'vp3']

let ca: MembershipServices
let logs: ReturnType<typeof captureLogs>
let nodes: PeerNode[] = []
// Enrollment tokens are one-time: a CA for each test.
beforeEach(async () => { ca = await memoryMembershipServices(); logs = captureLogs(); nodes = [] })
afterEach(async () => {
  await Promise.all(nodes.map(async n => await n.stop()))
  logs.restore()
})

/** A PBFT validator or a non-validator; enrolled as `enrollID` unless that is undefined (then it signs with its libp2p key, unknown to the ECA). */
async function node (net: MemoryNetwork, name: string, enrollID: string | undefined, over: ConfigOverrides = {}): Promise<PeerNode> {
  const i = names.indexOf(name)
  const overrides: ConfigOverrides = {
    pbft: { general: { N: 4, f: 1, batchsize: 1 } },
    security: { enabled: true, enrollID: enrollID ?? '', enrollSecret: secrets[enrollID ?? ''] ?? '', tcert: { batch: { size: 4 } } },
    ...over,
    peer: { validator: { consensus: { plugin: 'pbft' } }, discovery: { rootnode: i > 0 ? names.slice(0, i).join(',') : '' }, ...over.peer }
  }
  const security = enrollID === undefined ? undefined : await enrollInMemory(ca, withOverrides(loadConfig(), overrides))
  const signer = enrollID === undefined ? keySigner(await generateKeyPair('Ed25519')) : undefined
  const n = await memoryNode(net, name, overrides, { packageChaincode, security, identity: { signer, validators: names.map(v => ({ name: v })) } })
  nodes.push(n)
  return n
}

describe('validators enrolled with membership services', () => {
  it('chat and agree under their enrollment keys; an unenrolled validator gets no chat and the chain moves without it', async () => {
    const net = new MemoryNetwork()
    const vps = [await node(net, 'vp0', 'test_vp0'), await node(net, 'vp1', 'test_vp1'), await node(net, 'vp2', 'test_vp2')]
    const outsider = await node(net, 'vp3', undefined)
    for (const vp of [...vps, outsider]) await vp.start()
    await waitFor('the enrolled mesh', () => vps.every(vp => vp.connections().filter(c => c.type === PeerEndpoint_Type.VALIDATOR).length === 2))
    // Each knows the others by the hash of their enrollment certificate.
    for (const vp of vps) expect((await vp.getPeerEndpoint()).pkiID).toHaveLength(32)
    const pkiIDs = await Promise.all(vps.map(async vp => (await vp.getPeerEndpoint()).pkiID))
    expect(new Set(pkiIDs.map(p => Buffer.from(p).toString('hex'))).size).toBe(3)

    await vps[0].users!.login('jim', secrets.jim)
    const cds = await vps[0].deploy(counter('jim'), { waitMs: 20_000 })
    await vps[0].invoke(invocation(cds.chaincodeSpec!.chaincodeID!.name, 'jim'), { waitMs: 20_000 })
    await waitFor('three enrolled validators at height 3', () => vps.every(vp => vp.height === 3), 20_000)
    expect(outsider.height).toBe(1)
    for (const vp of vps) expect(vp.connections().map(c => c.name)).not.toContain('vp3')
    expect(outsider.connections()).toEqual([])
    // A view change needs 2f+1 VIEW-CHANGEs, each signed with an enrollment key and checked against the sender's ECert.
    for (const vp of vps) vp.requestViewChange()
    await waitFor('view 1 everywhere', () => vps.every(vp => vp.consensusStatus()?.pbft?.view === 1 && vp.consensusStatus()?.pbft?.activeView === true), 20_000)
    await vps[0].invoke(invocation(cds.chaincodeSpec!.chaincodeID!.name, 'jim'), { waitMs: 20_000 })
    await waitFor('height 4 under the new primary', () => vps.every(vp => vp.height === 4), 20_000)
  }, 60_000)

  it('refuses HELLO and CONSENSUS from a peer whose key is not a validator\'s or peer\'s enrollment key (a client\'s)', async () => {
    const net = new MemoryNetwork()
    const vp0 = await node(net, 'vp0', 'test_vp0')
    await vp0.start()
    const jim = await enrollInMemory(ca, withOverrides(loadConfig(), { security: { enrollID: 'jim', enrollSecret: secrets.jim }, peer: { validator: { enabled: false } } }))
    const asJim = new EnrollmentSigning(jim)
    const stream = await net.dialer('vp1').dialChat('vp0')
    const got: Message[] = []
    const reading = (async () => { for (let m = await stream.recv(); m !== undefined; m = await stream.recv()) got.push(m) })().catch(() => {})
    const endpoint = create(PeerEndpointSchema, { ID: { name: 'vp1' }, address: 'vp1', type: PeerEndpoint_Type.VALIDATOR, pkiID: asJim.pkiID })
    await stream.send(await signMessage(helloMessage(endpoint, create(BlockchainInfoSchema, { height: 1n }), timestampAt(Date.now())), asJim))
    await stream.send(await signMessage(create(MessageSchema, { type: Message_Type.CONSENSUS, payload: utf8('not for you'), timestamp: timestampAt(Date.now()) }), asJim))
    await new Promise(resolve => setTimeout(resolve, 500))
    // No HELLO back, no chat registered, consensus untouched.
    expect(got.filter(m => m.type === Message_Type.DISC_HELLO)).toEqual([])
    expect(vp0.connections()).toEqual([])
    expect(vp0.consensusStatus()?.pbft).toMatchObject({ outstandingRequests: 0, view: 0 })
    await stream.close()
    await reading
  }, 30_000)

  it('rejects an unsigned transaction that a non-validator forwards: REJECTION on the validators, nothing committed', async () => {
    const net = new MemoryNetwork()
    const vps: PeerNode[] = []
    for (const [i, name] of names.entries()) vps.push(await node(net, name, `test_vp${i}`))
    const nvp = await node(net, 'nvp0', 'test_nvp0', { peer: { validator: { enabled: false }, discovery: { rootnode: 'vp0' } } })
    for (const n of [...vps, nvp]) await n.start()
    await waitFor('the mesh', () => vps.every(vp => vp.connections().filter(c => c.type === PeerEndpoint_Type.VALIDATOR).length === 3) && nvp.connections().length > 0)
    const rejections: Event[] = []
    for (const vp of vps) vp.subscribeEvents([create(InterestSchema, { eventType: EventType.REJECTION })], ev => { rejections.push(ev) })
    await nvp.users!.login('jim', secrets.jim)
    const cds = await nvp.deploy(counter('jim'), {})
    await waitFor('deployed everywhere', () => vps.every(vp => vp.height === 2), 20_000)
    const unsigned = newExecuteTransaction(invocation(cds.chaincodeSpec!.chaincodeID!.name, ''), 'unsigned-1', Transaction_Type.CHAINCODE_INVOKE)
    expect((await nvp.processTransaction(unsigned)).status).toBe(Response_StatusCode.SUCCESS) // accepted by the non-validator, which only forwards
    await waitFor('rejected by every validator', () => rejections.filter(e => e.Event.case === 'rejection' && e.Event.value.tx?.txid === 'unsigned-1').length === 4, 20_000)
    for (const e of rejections) if (e.Event.case === 'rejection') expect(e.Event.value.errorMsg).toBe('Missing Transaction Certificate.')
    // The next signed one commits on top of the deploy alone.
    await nvp.invoke(invocation(cds.chaincodeSpec!.chaincodeID!.name, 'jim'), {})
    await waitFor('height 3', () => vps.every(vp => vp.height === 3), 20_000)
    expect(await vps[0].getTransactionByID('unsigned-1')).toBeUndefined()
  }, 60_000)
})

describe.each([[384, 'SHA3'], [384, 'SHA2'], [256, 'SHA2']] as const)('at security.level %i with %s', (level, hashAlgorithm) => {
  it('a user\'s invoke commits with a TCert and signature of that level', async () => {
    ca = await memoryMembershipServices(level, hashAlgorithm)
    const net = new MemoryNetwork()
    const overrides: ConfigOverrides = { security: { enabled: true, level, hashAlgorithm, enrollID: 'test_vp0', enrollSecret: secrets.test_vp0, tcert: { batch: { size: 2 } } } }
    const vp = await memoryNode(net, 'vp0', overrides, { packageChaincode, security: await enrollInMemory(ca, withOverrides(loadConfig(), overrides)) })
    nodes.push(vp)
    await vp.start()
    expect((await vp.getPeerEndpoint()).pkiID).toHaveLength(level / 8)
    await vp.users!.login('jim', secrets.jim)
    const cds = await vp.deploy(counter('jim'), { waitMs: 10_000 })
    const resp = await vp.invoke(invocation(cds.chaincodeSpec!.chaincodeID!.name, 'jim'), { waitMs: 10_000 })
    const tx = (await vp.getTransactionByID(new TextDecoder().decode(resp.msg)))!
    const suite = cryptoSuite(hashAlgorithm, level)
    expect(parseCertificate(tx.cert).publicKey.curve).toBe(suite.curve)
    expect(ecdsaVerify(suite, parseCertificate(tx.cert).publicKey, signedTransactionBytes(tx), tx.signature)).toBe(true)
    expect(vp.height).toBe(3)
  }, 30_000)
})
