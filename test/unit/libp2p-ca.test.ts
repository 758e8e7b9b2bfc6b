// The /weft/ca/0.6.1 relay: a tab's CaRpc as frames, answered by the relay over Weft's
// membership services. Enrollment and TCerts work through it; admin and unknown methods,
// oversize and undecodable requests, and an unreachable CA are refused with the reason.
import { create, toBinary } from '@bufbuild/protobuf'
import { beforeAll, describe, expect, it } from 'vitest'
import { inProcessCaRpc, type MembershipServices } from '../../src/ca/membership.ts'
import { fromUtf8 } from '../../src/crypto/bytes.ts'
import { CaClient } from '../../src/crypto/fabric/ca-client.ts'
import type { CaRpc } from '../../src/crypto/fabric/ca-rpc.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { ecdsaSign, ecdsaVerify } from '../../src/crypto/fabric/ecdsa.ts'
import { EmptySchema, RegisterUserReqSchema, Role } from '../../src/protos/ca_pb.ts'
import { encodeCaRequest, framedCaRpc, relayCaRequest } from '../../src/transport/libp2p-ca.ts'
import { memoryMembershipServices } from '../helpers/secure-members.ts'

const suite = cryptoSuite('SHA3', 256)
let ca: MembershipServices
let direct: CaRpc

const answerText = (answer: Uint8Array): string => fromUtf8(answer.subarray(1))

beforeAll(async () => {
  ca = await memoryMembershipServices()
  direct = inProcessCaRpc(ca)
})

describe('the /weft/ca/0.6.1 relay', () => {
  it('carries an enrollment and a TCert batch: the derived key signs what the TCert verifies', async () => {
    const rpc = framedCaRpc(frame => relayCaRequest(direct, frame))
    const client = new CaClient({ suite, rpc, now: () => Date.now() })
    const e = await client.enroll('jim', '6avZQLwcUe9b')
    expect(e.ecert.subject.commonName).toBe('jim\\bank_a')
    const batch = await client.getTCerts('jim', e.signKey, 2)
    expect(batch.tcerts).toHaveLength(2)
    const msg = new TextEncoder().encode('signed in the tab')
    const sig = ecdsaSign(suite, batch.tcerts[0].privateKey, msg)
    expect(ecdsaVerify(suite, batch.tcerts[0].cert.publicKey, msg, sig)).toBe(true)
  })

  it('answers a wrong secret with the CA\'s own reason', async () => {
    const client = new CaClient({ suite, rpc: framedCaRpc(frame => relayCaRequest(direct, frame)), now: () => Date.now() })
    const viaRelay = await client.enroll('lukas', 'wrong').then(() => '', (err: Error) => err.message)
    const straight = await new CaClient({ suite, rpc: direct, now: () => Date.now() }).enroll('lukas', 'wrong').then(() => '', (err: Error) => err.message)
    expect(straight).not.toBe('')
    expect(viaRelay).toBe(`membership services: ${straight}`)
  })

  it('never relays the admin services (ECAA RegisterUser) and says so', async () => {
    const req = toBinary(RegisterUserReqSchema, create(RegisterUserReqSchema, { id: { id: 'mallory' }, role: Role.CLIENT, registrar: { id: { id: 'admin' } } }))
    for (const path of ['/protos.ECAA/RegisterUser', '/protos.ECAA/RevokeCertificate', '/protos.TCAA/RevokeCertificate', '/protos.TLSCAA/RevokeCertificate']) {
      const answer = await relayCaRequest(direct, encodeCaRequest(path, req))
      expect(answer[0]).toBe(1)
      expect(answerText(answer)).toBe(`unknown method ${path}: only ECAP, TCAP and TLSCAP are relayed`)
    }
    expect(await ca.store.user('mallory')).toBeUndefined()
  })

  it('refuses unknown methods, malformed and oversize requests', async () => {
    const empty = toBinary(EmptySchema, create(EmptySchema))
    for (const path of ['/protos.ECAP/NoSuchMethod', '/protos.Nope/ReadCACertificate', 'ReadCACertificate']) {
      const answer = await relayCaRequest(direct, encodeCaRequest(path, empty))
      expect(answerText(answer)).toBe(`unknown method ${path}: only ECAP, TCAP and TLSCAP are relayed`)
    }
    expect(answerText(await relayCaRequest(direct, new Uint8Array([40, 1, 2])))).toBe('malformed membership services request')
    const big = encodeCaRequest('/protos.ECAP/ReadCACertificate', new Uint8Array(2000))
    expect(answerText(await relayCaRequest(direct, big, 1024))).toBe('request is larger than 1024 bytes')
    // The same request within the limit is answered.
    const ok = await relayCaRequest(direct, encodeCaRequest('/protos.ECAP/ReadCACertificate', empty), 1024)
    expect(ok[0]).toBe(0)
  })

  it('says why when the CA cannot be reached', async () => {
    const down = { ecap: { readCACertificate: async () => { throw new Error('rpc error: code = 14 desc = No connection established') } } } as unknown as CaRpc
    const rpc = framedCaRpc(frame => relayCaRequest(down, frame))
    await expect(rpc.ecap.readCACertificate(create(EmptySchema))).rejects.toThrow('membership services: rpc error: code = 14 desc = No connection established')
  })
})
