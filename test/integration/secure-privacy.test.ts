// security.privacy end to end (confidentiality protocol 1.2) on a security-enabled validator
// (serve()) with Weft's membership services: a logged-in user's deploy, invoke and query go
// CONFIDENTIAL, the validator decrypts them before execution, example02's state is stored
// encrypted with Fabric's state encryptor, the query result comes back decrypted by Devops;
// a transaction encrypted to another key, tampered with or in an unknown protocol version is
// rejected with its reason and commits nothing.
import { create } from '@bufbuild/protobuf'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXAMPLES_ROOT } from '../../node/chaincode/package.ts'
import { newExecuteTransaction } from '../../src/chaincode/transactions.ts'
import { fromUtf8, utf8 } from '../../src/crypto/bytes.ts'
import { generateEcKey } from '../../src/crypto/fabric/ec-key.ts'
import { pemToPrivateKey } from '../../src/crypto/fabric/keys.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { ChaincodeInvocationSpecSchema, ConfidentialityLevel } from '../../src/protos/chaincode_pb.ts'
import { EventType, InterestSchema, type Event } from '../../src/protos/events_pb.ts'
import { Transaction_Type, type Transaction } from '../../src/protos/fabric_pb.ts'
import { decryptTransaction, encryptTransaction, stateEncryptor } from '../../src/security/confidentiality.ts'
import { randomNonce, signTransaction } from '../../src/security/transactions.ts'
import { seededRandom } from '../../src/util/scheduler.ts'
import { setLogLevel } from '../../src/util/logger.ts'
import { weftWith } from '../interop/weft-cli.ts'
import { waitFor } from '../helpers/wait.ts'
import { chaincodeRpc, securePeerWithCa, type InProcessPeer } from './in-process-peer.ts'

const FIXTURES = fileURLToPath(new URL('./fixtures/chaincode', import.meta.url))

for (const level of [256, 384] as const) {
  describe(`security.privacy at security level ${level}`, () => {
    const suite = cryptoSuite('SHA3', level)
    let secured: Awaited<ReturnType<typeof securePeerWithCa>> | undefined
    let vp: InProcessPeer
    let example: string
    const rejections: Event[] = []
    const spec = (args: string[], user: string) => ({ type: 2, chaincodeID: { name: example }, ctorMsg: { args }, secureContext: user })
    const query = async (key: string): Promise<string | undefined> => (await chaincodeRpc(vp.peer, { method: 'query', params: spec(['query', key], 'test_user0') })).result?.message
    const chainKey = async () => pemToPrivateKey(await readFile(join(vp.dir, 'crypto', 'validator', 'test_vp0', 'ks', 'raw', 'chain.key'), 'utf8'))

    beforeAll(async () => {
      setLogLevel('warn')
      secured = await securePeerWithCa({ security: { privacy: true, level }, chaincode: { node: { roots: [EXAMPLES_ROOT, FIXTURES] } } }, { MEMBERSRVC_CA_SECURITY_LEVEL: String(level) })
      vp = secured.vp
      vp.peer.node.subscribeEvents([create(InterestSchema, { eventType: EventType.REJECTION })], ev => { rejections.push(ev) })
      const login = await fetch(`${vp.peer.restUrl}/registrar`, { method: 'POST', body: JSON.stringify({ enrollId: 'test_user0', enrollSecret: 'MS9qrN8hFjlE' }) })
      expect(login.status).toBe(200)
    }, 60_000)

    afterAll(async () => {
      await secured?.close()
      setLogLevel('info')
    })

    it('the validator got the chain\'s private key from the ECA, the user its public key and a query key', async () => {
      const user = join(vp.dir, 'crypto', 'client', 'test_user0', 'ks', 'raw')
      expect(await readFile(join(user, 'chain.key'), 'utf8')).toMatch(/^-----BEGIN ECDSA PUBLIC KEY-----\n/)
      expect(await readFile(join(user, 'query.key'), 'utf8')).toMatch(/^-----BEGIN AES PRIVATE KEY-----\n/)
      expect((await chainKey()).curve).toBe(suite.curve)
    })

    it('deploys, invokes and queries example02 confidentially; its state is stored encrypted', async () => {
      const deployed = await chaincodeRpc(vp.peer, { method: 'deploy', params: { type: 2, chaincodeID: { path: join(EXAMPLES_ROOT, 'example02.ts') }, ctorMsg: { args: ['init', 'a', '100', 'b', '200'] }, secureContext: 'test_user0' }, wait: true })
      expect(deployed.error).toBeUndefined()
      example = deployed.result!.message
      const deployTx = (await vp.peer.node.getTransactionByID(example))!
      expect([deployTx.confidentialityLevel, deployTx.confidentialityProtocolVersion]).toEqual([ConfidentialityLevel.CONFIDENTIAL, '1.2'])
      // The block holds ciphertext: the constructor's arguments are nowhere in it.
      expect(Buffer.from(deployTx.payload).includes('init')).toBe(false)
      expect(Buffer.from(deployTx.chaincodeID).includes(example)).toBe(false)
      // REST gives the block as Fabric does under privacy: the deploy's undecodable payload emptied.
      const at = await vp.peer.node.transactionStatus(example)
      const block = await fetch(`${vp.peer.restUrl}/chain/blocks/${at.status === 'committed' ? at.block : -1}`)
      expect(block.status).toBe(200)
      const listed = (await block.json() as { transactions: Array<{ txid: string, payload?: string, toValidators?: string }> }).transactions.find(t => t.txid === example)
      expect(listed?.payload).toBeUndefined()
      expect(listed?.toValidators).toBeDefined()

      const invoked = await chaincodeRpc(vp.peer, { method: 'invoke', params: spec(['invoke', 'a', 'b', '10'], 'test_user0'), wait: true })
      expect(invoked.error).toBeUndefined()
      const invokeTx = (await vp.peer.node.getTransactionByID(invoked.result!.message))!
      expect(invokeTx.confidentialityLevel).toBe(ConfidentialityLevel.CONFIDENTIAL)
      expect(await query('a')).toBe('90')
      expect(await query('b')).toBe('210')

      // A public query reads what the ledger holds: executeTxNonce ‖ GCM nonce ‖ sealed "90", which the chain key opens.
      const raw = await vp.peer.node.query(create(ChaincodeInvocationSpecSchema, { chaincodeSpec: { ...spec(['query', 'a'], 'test_user0'), ctorMsg: { args: ['query', 'a'].map(utf8) } } }))
      expect(raw.msg).toHaveLength(24 + 12 + 2 + 16)
      const key = await chainKey()
      const plainDeploy = decryptTransaction(suite, deployTx, key)
      expect(fromUtf8(stateEncryptor(suite, key, plainDeploy, decryptTransaction(suite, invokeTx, key)).decrypt(raw.msg))).toBe('90')
    }, 60_000)

    it('rejects a transaction encrypted to another chain key, a tampered one and an unknown protocol version, and commits nothing', async () => {
      const member = await vp.peer.node.users!.member('test_user0')
      const random = seededRandom(level)
      const invoke = (txid: string, keyOf = member.chain!.publicKey): Transaction => {
        const tx = newExecuteTransaction(create(ChaincodeInvocationSpecSchema, { chaincodeSpec: { type: 2, chaincodeID: { name: example }, ctorMsg: { args: ['invoke', 'a', 'b', '1'].map(utf8) } } }), txid, Transaction_Type.CHAINCODE_INVOKE)
        tx.nonce = randomNonce(random)
        return encryptTransaction(suite, tx, { chainPublicKey: keyOf, queryStateKey: member.chain!.queryStateKey! })
      }
      const wrongKey = invoke('private-1', generateEcKey(suite.curve).publicKey)
      const tampered = invoke('private-2')
      tampered.payload[tampered.payload.length - suite.hashSize - 1] ^= 1
      const version = invoke('private-3')
      version.confidentialityProtocolVersion = '2.0'
      const cases: Array<[Transaction, RegExp]> = [
        [wrongKey, /^Failed decrypting confidential transaction: Tag check failed/],
        [tampered, /^Failed decrypting confidential transaction: Tag check failed/],
        [version, /^Failed decrypting confidential transaction: Invalid protocol version$/]
      ]
      for (const [tx] of cases) await vp.peer.node.processTransaction(signTransaction(tx, await member.nextTCert()))
      await waitFor('rejections', () => rejections.filter(e => e.Event.case === 'rejection' && e.Event.value.tx?.txid.startsWith('private-')).length === cases.length)
      for (const [tx, reason] of cases) {
        expect(await vp.peer.node.transactionStatus(tx.txid)).toMatchObject({ status: 'rejected', error: expect.stringMatching(reason) })
        expect(await vp.peer.node.getTransactionByID(tx.txid)).toBeUndefined()
      }
      expect(await query('a')).toBe('90')
    }, 30_000)

    it('refuses one confidential chaincode calling another, as Fabric does', async () => {
      const relay = await chaincodeRpc(vp.peer, { method: 'deploy', params: { type: 2, chaincodeID: { path: join(FIXTURES, 'relay.ts') }, ctorMsg: { args: ['init'] }, secureContext: 'test_user0' }, wait: true })
      expect(relay.error).toBeUndefined()
      const relayed = await chaincodeRpc(vp.peer, { method: 'query', params: { type: 2, chaincodeID: { name: relay.result!.message }, ctorMsg: { args: ['query', example, 'query', 'a'] }, secureContext: 'test_user0' } })
      expect(relayed.error?.data).toMatch(/Error chaincode-chaincode interactions not supported for with privacy enabled/)
    }, 60_000)

    it('the CLI with security.privacy sends its user\'s invoke and query CONFIDENTIAL, and prints the decrypted result', async () => {
      const cli = async (...args: string[]) => await weftWith({
        CORE_SECURITY_ENABLED: 'true', CORE_SECURITY_PRIVACY: 'true', CORE_SECURITY_LEVEL: String(level), CORE_PEER_FILESYSTEMPATH: vp.dir, CORE_PEER_VALIDATOR_EVENTS_ADDRESS: vp.peer.events.address
      }, vp.peer.grpc.address, ...args)
      expect((await cli('network', 'login', 'alice', '-p', 'CMS10pEQlB16')).code).toBe(0)
      const invoked = await cli('chaincode', 'invoke', '-n', example, '-c', '{"Args":["invoke","a","b","5"]}', '-u', 'alice', '--wait', '10s')
      expect(invoked.code).toBe(0)
      const txid = /Successfully invoked transaction: (\S+)/.exec(invoked.out)![1]
      expect((await vp.peer.node.getTransactionByID(txid))!.confidentialityLevel).toBe(ConfidentialityLevel.CONFIDENTIAL)
      const q = await cli('chaincode', 'query', '-n', example, '-c', '{"Args":["query","a"]}', '-u', 'alice')
      expect([q.code, q.out]).toEqual([0, 'Query Result: 85\n'])
    }, 60_000)
  })
}
