// A security-enabled validator (serve()) against Weft's membership services (serveCa): it enrolls
// at start and keeps its keys, users log in through REST and Devops.Login, transactions named by
// a user carry its TCert and signature, and a tampered, unsigned or foreign-signed one is refused.
import { create } from '@bufbuild/protobuf'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXAMPLES_ROOT } from '../../node/chaincode/package.ts'
import { serveCa, type RunningCa } from '../../node/ca/serve.ts'
import { SERVER_NAME, tlsFiles } from '../helpers/tls-fixtures.ts'
import { loadCaConfig } from '../../src/ca/config.ts'
import { fromUtf8, toHex } from '../../src/crypto/bytes.ts'
import { pemToCertDer } from '../../src/crypto/fabric/pem.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { getExtension, OID_ECERT_SUBJECT_ROLE, OID_TCERT_ENC_TCERT_INDEX, parseCertificate, verifyCertificate } from '../../src/crypto/fabric/x509.ts'
import { ChaincodeInvocationSpecSchema } from '../../src/protos/chaincode_pb.ts'
import { Devops, SecretSchema } from '../../src/protos/devops_pb.ts'
import { EventType, InterestSchema, type Event } from '../../src/protos/events_pb.ts'
import { Response_StatusCode, Transaction_Type, type Response, type Transaction } from '../../src/protos/fabric_pb.ts'
import { newExecuteTransaction } from '../../src/chaincode/transactions.ts'
import type { MembershipClient } from '../../src/security/keystore.ts'
import { signTransaction } from '../../src/security/transactions.ts'
import { systemScheduler } from '../../src/util/scheduler.ts'
import { enrollNode } from '../../src/security/node-security.ts'
import { memberFiles } from '../../node/peer/member-files.ts'
import { setLogLevel } from '../../src/util/logger.ts'
import { credentials } from '@grpc/grpc-js'
import { unaryCall } from '../../node/grpc/client.ts'
import { clientConstructor } from '../../node/grpc/service-definition.ts'
import { weftWith } from '../interop/weft-cli.ts'
import { waitFor } from '../helpers/wait.ts'
import { chaincodeRpc, inProcessPeer, securePeerWithCa, type InProcessPeer } from './in-process-peer.ts'

const FIXTURES = fileURLToPath(new URL('./fixtures/chaincode', import.meta.url))
const suite = cryptoSuite('SHA3', 256)
let ca: RunningCa
let secured: Awaited<ReturnType<typeof securePeerWithCa>> | undefined
let vp: InProcessPeer
let example: string
let caller: string
const rejections: Event[] = []

const rest = async (method: string, path: string, body?: unknown): Promise<{ status: number, body: Record<string, unknown> }> => {
  const res = await fetch(`${vp.peer.restUrl}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) })
  return { status: res.status, body: await res.json() as Record<string, unknown> }
}
const login = async (enrollId: string, enrollSecret: string): Promise<Response> => {
  const client = new (clientConstructor(Devops))(vp.peer.grpc.address, credentials.createInsecure())
  try {
    return await unaryCall<Response>(client, 'login', create(SecretSchema, { enrollId, enrollSecret }))
  } finally {
    client.close()
  }
}
const spec = (name: string, args: string[], user?: string) => ({ type: 2, chaincodeID: { name }, ctorMsg: { args }, secureContext: user })

beforeAll(async () => {
  setLogLevel('warn')
  secured = await securePeerWithCa({ security: { tcert: { batch: { size: 8 } } }, chaincode: { node: { roots: [EXAMPLES_ROOT, FIXTURES] } } })
  ;({ ca, vp } = secured)
  vp.peer.node.subscribeEvents([create(InterestSchema, { eventType: EventType.REJECTION })], ev => { rejections.push(ev) })
}, 60_000)

afterAll(async () => {
  await secured?.close()
  setLogLevel('info')
})

describe('a security-enabled peer', () => {
  it('enrolled as security.enrollID and keeps its keys where Fabric keeps them; its pkiID is the hash of its ECert', async () => {
    const raw = join(vp.dir, 'crypto', 'validator', 'test_vp0', 'ks', 'raw')
    const ecert = pemToCertDer(await readFile(join(raw, 'enrollment.cert'), 'utf8'))
    expect(fromUtf8(getExtension(parseCertificate(ecert), OID_ECERT_SUBJECT_ROLE))).toBe('4') // a validator
    expect(await readFile(join(raw, 'enrollment.id'), 'utf8')).toBe('test_vp0')
    expect(await readFile(join(raw, 'enrollment.key'), 'utf8')).toMatch(/^-----BEGIN ECDSA PRIVATE KEY-----\n/)
    expect((await vp.peer.node.getPeerEndpoint()).pkiID).toEqual(suite.hash(ecert))
    // Started again, it runs with the stored keys and asks the CA for nothing.
    const offline: MembershipClient = {
      enroll: async () => { throw new Error('the CA is not asked') },
      tcertBatch: async () => { throw new Error('the CA is not asked') },
      enrollmentCertificate: async () => { throw new Error('the CA is not asked') }
    }
    const again = await enrollNode(vp.peer.node.config, offline, memberFiles(vp.dir), systemScheduler)
    expect(again.self.enrollment.cert).toEqual(ecert)
  })

  it('does not start when it cannot enroll, and says with which CA', async () => {
    const wrong = inProcessPeer({ security: { enabled: true, enrollID: 'test_vp1', enrollSecret: 'not-it' }, peer: { pki: { eca: { paddr: ca.grpc.address }, tca: { paddr: ca.grpc.address } } } })
    await expect(wrong).rejects.toThrow(`cannot enroll validator test_vp1 with membership services at ${ca.grpc.address} (peer.pki.eca.paddr): `)
    const nobody = inProcessPeer({ security: { enabled: true }, peer: { pki: { eca: { paddr: '127.0.0.1:1' }, tca: { paddr: '127.0.0.1:1' } } } })
    await expect(nobody).rejects.toThrow(/^cannot enroll validator vp with membership services at 127\.0\.0\.1:1 \(peer\.pki\.eca\.paddr\): rpc error: code = 14 /)
  }, 30_000)

  it('enrolls over TLS with peer.pki.tls.*, and not with a CA it does not trust', async () => {
    const tlsDir = await mkdtemp(join(tmpdir(), 'weft-ca-tls-'))
    const tlsCa = await serveCa(loadCaConfig({
      env: {
        MEMBERSRVC_CA_SERVER_PORT: '127.0.0.1:0',
        MEMBERSRVC_CA_SECURITY_TLS_ENABLED: 'true',
        MEMBERSRVC_CA_SERVER_TLS_CERT_FILE: tlsFiles.server,
        MEMBERSRVC_CA_SERVER_TLS_KEY_FILE: tlsFiles.serverKey
      }
    }), tlsDir)
    const paddr = tlsCa.grpc.address
    const pki = (rootcert: string) => ({ eca: { paddr }, tca: { paddr }, tlsca: { paddr }, tls: { enabled: true, rootcert: { file: rootcert }, serverhostoverride: SERVER_NAME } })
    try {
      const enrolled = await inProcessPeer({ security: { enabled: true, enrollID: 'test_vp2', enrollSecret: 'vQelbRvja7cJ' }, peer: { pki: pki(tlsFiles.ca) } })
      expect((await enrolled.peer.node.getPeerEndpoint()).pkiID.length).toBeGreaterThan(0)
      await enrolled.close()
      const untrusting = inProcessPeer({ security: { enabled: true, enrollID: 'test_vp3', enrollSecret: '9LKqKH5peurL' }, peer: { pki: pki(tlsFiles.otherCa) } })
      await expect(untrusting).rejects.toThrow(`cannot enroll validator test_vp3 with membership services at ${paddr} (peer.pki.eca.paddr): `)
    } finally {
      await tlsCa.stop()
      await rm(tlsDir, { recursive: true, force: true })
    }
  }, 60_000)
})

describe('users', () => {
  it('log in through POST /registrar, once; wrong secrets and unknown users are refused with the CA\'s reason', async () => {
    expect(await rest('POST', '/registrar', { enrollId: 'jim', enrollSecret: '6avZQLwcUe9b' })).toEqual({ status: 200, body: { OK: "Login successful for user 'jim'." } })
    expect(await rest('POST', '/registrar', { enrollId: 'jim', enrollSecret: '6avZQLwcUe9b' })).toEqual({ status: 200, body: { OK: 'User jim is already logged in.' } })
    const wrong = await rest('POST', '/registrar', { enrollId: 'alice', enrollSecret: 'nope' })
    expect(wrong.status).toBe(401)
    expect(wrong.body.Error).toMatch(/Identity or token does not match/)
    const unknown = await rest('POST', '/registrar', { enrollId: 'nobody', enrollSecret: 'x' })
    expect(unknown.status).toBe(401)
    expect(await rest('GET', '/registrar/alice')).toEqual({ status: 401, body: { Error: 'User alice must log in.' } })
    expect(await rest('GET', '/registrar/jim')).toEqual({ status: 200, body: { OK: 'User jim is already logged in.' } })
  })

  it('have their certificates served: the ECert, and TCerts from the TCA', async () => {
    const ecert = await rest('GET', '/registrar/jim/ecert')
    expect(ecert.status).toBe(200)
    const der = pemToCertDer(decodeURIComponent((ecert.body.OK as string).replace(/\+/g, ' ')))
    expect(parseCertificate(der).subject.commonName).toMatch(/^jim\\/)
    const tcerts = await rest('GET', '/registrar/jim/tcert?count=3')
    expect(tcerts.status).toBe(200)
    const list = tcerts.body.OK as string[]
    expect(list).toHaveLength(3)
    const tcert = parseCertificate(pemToCertDer(decodeURIComponent(list[0].replace(/\+/g, ' '))))
    expect(verifyCertificate(tcert, [ca.services.tca.authority.cert], { now: new Date(), handledCritical: [OID_TCERT_ENC_TCERT_INDEX] })).toBeDefined()
    const notIn = await rest('GET', '/registrar/alice/ecert')
    expect(notIn).toEqual({ status: 400, body: { Error: `open ${join(vp.dir, 'crypto', 'client', 'alice', 'ks', 'raw', 'eca.cert.chain')}: no such file or directory` } })
    expect((await rest('GET', '/registrar/alice/tcert')).status).toBe(400)
  })

  it('log in through Devops.Login; a wrong secret is a FAILURE with the CA\'s reason', async () => {
    const ok = await login('alice', 'CMS10pEQlB16')
    expect(ok.status).toBe(Response_StatusCode.SUCCESS)
    const bad = await login('bob', 'wrong')
    expect([bad.status, fromUtf8(bad.msg)]).toEqual([Response_StatusCode.FAILURE, expect.stringMatching(/Identity or token does not match/)])
    // Devops.Login leaves no REST login token: /registrar still asks alice to log in, as in Fabric.
    expect((await rest('GET', '/registrar/alice')).status).toBe(401)
  })

  it('log out with DELETE /registrar/{id}: token and keys go', async () => {
    expect(await rest('POST', '/registrar', { enrollId: 'lukas', enrollSecret: 'NPKYL39uKbkj' })).toEqual({ status: 200, body: { OK: "Login successful for user 'lukas'." } })
    expect(await rest('DELETE', '/registrar/lukas')).toEqual({ status: 200, body: { OK: 'Deleted login token and directory for user lukas.' } })
    expect(await rest('DELETE', '/registrar/lukas')).toEqual({ status: 200, body: { OK: 'User lukas is not logged in.' } })
    expect((await rest('GET', '/registrar/lukas/ecert')).status).toBe(400)
  })
})

describe('transactions named by a user', () => {
  it('deploy and invoke with secureContext commit carrying the user\'s TCert and signature; chaincode sees the caller', async () => {
    const deployed = await chaincodeRpc(vp.peer, { method: 'deploy', params: { type: 2, chaincodeID: { path: join(EXAMPLES_ROOT, 'example02.ts') }, ctorMsg: { args: ['init', 'a', '100', 'b', '200'] }, secureContext: 'jim' }, wait: true })
    example = deployed.result!.message
    const deployTx = (await vp.peer.node.getTransactionByID(example))!
    expect(parseCertificate(deployTx.cert).subject.commonName).toBe('Transaction Certificate')
    expect(deployTx.signature.length).toBeGreaterThan(0)
    expect(deployTx.nonce).toHaveLength(24)

    const c = await chaincodeRpc(vp.peer, { method: 'deploy', params: { type: 2, chaincodeID: { path: join(FIXTURES, 'caller.ts') }, ctorMsg: { args: ['init'] }, secureContext: 'jim' }, wait: true })
    caller = c.result!.message
    const inv = await chaincodeRpc(vp.peer, { method: 'invoke', params: { ...spec(caller, ['record'], 'jim'), metadata: Buffer.from('from jim').toString('base64') }, wait: true })
    expect(inv.error).toBeUndefined()
    const tx = (await vp.peer.node.getTransactionByID(inv.result!.message))!
    const query = async (key: string): Promise<string> => (await chaincodeRpc(vp.peer, { method: 'query', params: spec(caller, ['get', key], 'jim') })).result!.message
    expect(await query('cert')).toBe(toHex(tx.cert))
    expect(await query('metadata')).toBe(Buffer.from('from jim').toString('hex'))
    expect(await query('binding')).toBe(toHex(suite.hash(new Uint8Array([...tx.cert, ...tx.nonce]))))
    // Each transaction takes a new TCert.
    expect(toHex(tx.cert)).not.toBe(toHex(deployTx.cert))
  }, 60_000)

  it('needs a user who logged in', async () => {
    const noUser = await chaincodeRpc(vp.peer, { method: 'invoke', params: spec(example, ['invoke', 'a', 'b', '1']) })
    expect(noUser.error?.data).toBe('Must supply username for chaincode when security is enabled.')
    const notIn = await chaincodeRpc(vp.peer, { method: 'invoke', params: spec(example, ['invoke', 'a', 'b', '1'], 'bob') })
    expect(notIn.error).toEqual({ code: -32000, message: 'Registration missing', data: "User not logged in. Use the '/registrar' endpoint to obtain a security token." })
  })

  it('refuses a tampered, unsigned or foreign-signed transaction: FAILURE, a REJECTION with the reason, nothing committed', async () => {
    const height = vp.peer.node.height
    const member = await vp.peer.node.users!.member('jim')
    const cis = create(ChaincodeInvocationSpecSchema, { chaincodeSpec: { type: 2, chaincodeID: { name: example }, ctorMsg: { args: [new TextEncoder().encode('invoke'), ...['a', 'b', '10'].map(s => new TextEncoder().encode(s))] } } })
    const fresh = (txid: string): Transaction => ({ ...newExecuteTransaction(cis, txid, Transaction_Type.CHAINCODE_INVOKE), nonce: new Uint8Array(24).fill(1) })
    const signed = signTransaction(fresh('bad-1'), await member.nextTCert())
    const tampered = { ...signed, payload: signed.payload.slice(0, -1) }
    const theirs = signTransaction(fresh('bad-3'), await (await vp.peer.node.users!.member('alice')).nextTCert())
    const cases: Array<[Transaction, string]> = [
      [tampered, 'Invalid Transaction Signature.'],
      [fresh('bad-2'), 'Missing Transaction Certificate.'],
      [{ ...theirs, cert: signed.cert }, 'Invalid Transaction Signature.'],
      [{ ...signed, txid: 'bad-4', signature: new Uint8Array(0) }, 'Missing Transaction Signature.']
    ]
    for (const [tx, reason] of cases) {
      const resp = await vp.peer.node.processTransaction(tx)
      expect([resp.status, fromUtf8(resp.msg)]).toEqual([Response_StatusCode.FAILURE, reason])
      expect(await vp.peer.node.transactionStatus(tx.txid)).toMatchObject({ status: 'rejected', error: reason })
    }
    await waitFor('rejections', () => rejections.filter(e => e.Event.case === 'rejection' && e.Event.value.tx?.txid.startsWith('bad-')).length === 4)
    expect(rejections.map(e => e.Event.case === 'rejection' ? [e.Event.value.tx?.txid, e.Event.value.errorMsg] : [])).toEqual(expect.arrayContaining(cases.map(([tx, r]) => [tx.txid, r])))
    expect(vp.peer.node.height).toBe(height)
    // The peer keeps running: jim's own invoke still commits.
    const ok = await chaincodeRpc(vp.peer, { method: 'invoke', params: spec(example, ['invoke', 'a', 'b', '1'], 'jim'), wait: true })
    expect(ok.result?.message).toMatch(/^[0-9a-f-]{36}$/)
    expect(vp.peer.node.height).toBe(height + 1)
  }, 30_000)
})

describe('the CLI', () => {
  const cli = async (...args: string[]) => await weftWith({
    CORE_SECURITY_ENABLED: 'true', CORE_PEER_FILESYSTEMPATH: vp.dir, CORE_PEER_VALIDATOR_EVENTS_ADDRESS: vp.peer.events.address
  }, vp.peer.grpc.address, ...args)

  it('logs a user in with network login and invokes and queries as that user with -u', async () => {
    const notIn = await cli('chaincode', 'query', '-n', example, '-c', '{"Args":["query","a"]}', '-u', 'test_user0')
    expect([notIn.code, notIn.err]).toEqual([1, "Error: User 'test_user0' not logged in. Use the 'peer network login' command to obtain a security token.\n"])
    const noUser = await cli('chaincode', 'query', '-n', example, '-c', '{"Args":["query","a"]}')
    expect([noUser.code, noUser.err]).toEqual([1, 'Error: Must supply username for chaincode when security is enabled\n'])
    const wrong = await cli('network', 'login', 'test_user0', '-p', 'wrong')
    expect(wrong.code).toBe(1)
    expect(wrong.err).toMatch(/^Error: Error on client login: .*Identity or token does not match/)
    expect((await cli('network', 'login', 'test_user0', '-p', 'MS9qrN8hFjlE')).code).toBe(0)
    expect(await readFile(join(vp.dir, 'client', 'loginToken_test_user0'), 'utf8')).toBe('test_user0')
    const invoked = await cli('chaincode', 'invoke', '-n', example, '-c', '{"Args":["invoke","a","b","5"]}', '-u', 'test_user0', '--wait', '10s')
    expect(invoked.code).toBe(0)
    const txid = /Successfully invoked transaction: (\S+)/.exec(invoked.out)![1]
    const tx = (await vp.peer.node.getTransactionByID(txid))!
    expect(parseCertificate(tx.cert).issuer.commonName).toBe(parseCertificate(ca.services.tca.authority.raw).subject.commonName)
    const q = await cli('chaincode', 'query', '-n', example, '-c', '{"Args":["query","a"]}', '-u', 'test_user0')
    expect([q.code, q.out]).toEqual([0, 'Query Result: 94\n'])
  }, 60_000)
})
