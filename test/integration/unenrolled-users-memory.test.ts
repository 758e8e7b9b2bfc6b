// A peer that is not enrolled itself (a browser tab) on a security-enabled network: the validator
// refuses its Chat, yet it logs users in with the CA, signs their transactions with their TCerts
// (PeerPlatform.users) and hands them to its root node, which checks and commits them.
import { create } from '@bufbuild/protobuf'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig, withOverrides, type ConfigOverrides } from '../../src/config/index.ts'
import { utf8 } from '../../src/crypto/bytes.ts'
import { CaClient } from '../../src/crypto/fabric/ca-client.ts'
import { inProcessCaRpc } from '../../src/ca/membership.ts'
import { ecdsaVerify } from '../../src/crypto/fabric/ecdsa.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { parseCertificate } from '../../src/crypto/fabric/x509.ts'
import type { PeerNode } from '../../src/peer-node.ts'
import { keySigner } from '../../src/peer/security.ts'
import { ChaincodeInvocationSpecSchema, ChaincodeSpecSchema, ChaincodeSpec_Type, ConfidentialityLevel } from '../../src/protos/chaincode_pb.ts'
import { caMembership } from '../../src/security/ca-membership.ts'
import { Keystore } from '../../src/security/keystore.ts'
import { signedTransactionBytes } from '../../src/security/transactions.ts'
import { MemoryNetwork } from '../../src/transport/memory.ts'
import { systemScheduler } from '../../src/util/scheduler.ts'
import { captureLogs } from '../helpers/logs.ts'
import { enrollInMemory, memoryMembershipServices, memoryRawStore } from '../helpers/secure-members.ts'
import { waitFor } from '../helpers/wait.ts'
import { memoryNode } from './peer-helpers.ts'

const source = `
export function init (stub) { return stub.putState('n', '0') }
export async function invoke (stub) { const n = Number(new TextDecoder().decode(await stub.getState('n'))); await stub.putState('n', String(n + 1)) }
export async function query (stub) { return await stub.getState('n') }
`
const suite = cryptoSuite('SHA3', 256)
let nodes: PeerNode[] = []

afterEach(async () => {
  await Promise.all(nodes.map(async n => await n.stop()))
  nodes = []
})

/** vp0, enrolled with an in-memory CA, and a tab with no enrollment that logs users in with the CA. */
async function validatorAndTab (): Promise<{ vp: PeerNode, tab: PeerNode }> {
  const ca = await memoryMembershipServices()
  const net = new MemoryNetwork()
  const packageChaincode = async (): Promise<Uint8Array> => utf8(source)
  const vpOverrides: ConfigOverrides = { security: { enabled: true, enrollID: 'test_vp0', enrollSecret: 'MwYpmSRjupbT' } }
  const vp = await memoryNode(net, 'vp0', vpOverrides, { packageChaincode, security: await enrollInMemory(ca, withOverrides(loadConfig(), vpOverrides)) })
  const rpc = inProcessCaRpc(ca)
  const users = new Keystore(suite, memoryRawStore(), caMembership(new CaClient({ suite, rpc, now: () => systemScheduler.now() })), 4)
  const tab = await memoryNode(net, 'tab', { security: { enabled: true }, peer: { validator: { enabled: false }, discovery: { rootnode: 'vp0' } } },
    { packageChaincode, users, identity: { signer: keySigner(await generateKeyPair('Ed25519')) } })
  nodes.push(vp, tab)
  await vp.start()
  await tab.start()
  return { vp, tab }
}

describe('a peer without an enrollment of its own', () => {
  it('signs for its users with their TCerts and submits to its root node, whose Chat it does not get', async () => {
    const logs = captureLogs()
    try {
      const { vp, tab } = await validatorAndTab()
      await tab.users!.login('jim', '6avZQLwcUe9b')
      const spec = create(ChaincodeSpecSchema, { type: ChaincodeSpec_Type.NODE, chaincodeID: { path: 'counter' }, ctorMsg: { args: [utf8('init')] }, secureContext: 'jim' })
      const name = (await tab.deploy(spec)).chaincodeSpec!.chaincodeID!.name
      await waitFor('the deploy on vp0', async () => await vp.getTransactionByID(name), { timeoutMs: 20_000 })
      const inv = create(ChaincodeInvocationSpecSchema, { chaincodeSpec: { type: ChaincodeSpec_Type.NODE, chaincodeID: { name }, ctorMsg: { args: [utf8('invoke')] }, secureContext: 'jim' } })
      const txid = new TextDecoder().decode((await tab.invoke(inv)).msg)
      const tx = await waitFor('the invoke on vp0', async () => await vp.getTransactionByID(txid), { timeoutMs: 20_000 })
      expect(ecdsaVerify(suite, parseCertificate(tx.cert).publicKey, signedTransactionBytes(tx), tx.signature)).toBe(true)
      // The tab is no enrolled peer: vp0 never took its Chat, and the tab's chain did not move.
      expect(vp.connections()).toEqual([])
      expect(tab.height).toBe(0)
    } finally {
      logs.restore()
    }
  })

  it('encrypts its users\' CONFIDENTIAL transactions to the chain key, and decrypts their query results', async () => {
    const logs = captureLogs()
    try {
      const { vp, tab } = await validatorAndTab()
      await tab.users!.login('jim', '6avZQLwcUe9b')
      const confidential = { confidentialityLevel: ConfidentialityLevel.CONFIDENTIAL, secureContext: 'jim' }
      const spec = create(ChaincodeSpecSchema, { type: ChaincodeSpec_Type.NODE, chaincodeID: { path: 'counter' }, ctorMsg: { args: [utf8('init')] }, ...confidential })
      const name = (await tab.deploy(spec)).chaincodeSpec!.chaincodeID!.name
      await waitFor('the deploy on vp0', async () => await vp.getTransactionByID(name), { timeoutMs: 20_000 })
      const call = (fn: string) => create(ChaincodeInvocationSpecSchema, { chaincodeSpec: { type: ChaincodeSpec_Type.NODE, chaincodeID: { name }, ctorMsg: { args: [utf8(fn)] }, ...confidential } })
      const txid = new TextDecoder().decode((await tab.invoke(call('invoke'))).msg)
      const tx = await waitFor('the invoke on vp0', async () => await vp.getTransactionByID(txid), { timeoutMs: 20_000 })
      expect([tx.confidentialityLevel, tx.confidentialityProtocolVersion]).toEqual([ConfidentialityLevel.CONFIDENTIAL, '1.2'])
      expect(new TextDecoder().decode((await tab.query(call('query'))).msg)).toBe('1')
    } finally {
      logs.restore()
    }
  })

  it('has no users without security', async () => {
    const tab = await memoryNode(new MemoryNetwork(), 'tab', { peer: { validator: { enabled: false } } }, { users: new Keystore(suite, memoryRawStore(), undefined as never, 4) })
    nodes.push(tab)
    expect(tab.users).toBeUndefined()
  })
})
