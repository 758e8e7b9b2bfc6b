import { create } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import { describe, expect, it } from 'vitest'
import { fromUtf8, toHex } from '../../src/crypto/bytes.ts'
import { generateEcKey } from '../../src/crypto/fabric/ec-key.ts'
import { marshalPublicKey } from '../../src/crypto/fabric/keys.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { checkSignatureFrom, parseCertificate } from '../../src/crypto/fabric/x509.ts'
import { loadCaConfig } from '../../src/ca/config.ts'
import { createMembershipServices } from '../../src/ca/membership.ts'
import {
  CryptoType, ECertCRLReqSchema, ECertRevokeReqSchema, ReadUserSetReqSchema, RegisterUserReqSchema, Role, TCertCreateSetReqSchema, TLSCertCreateReqSchema
} from '../../src/protos/ca_pb.ts'
import { memoryStore } from '../../src/storage/memory.ts'
import { systemScheduler } from '../../src/util/scheduler.ts'
import { enrollByHand, memoryCa, signRequest } from './ca-helpers.ts'

const suite = cryptoSuite('SHA3', 256)

describe('ECAA', () => {
  it('lets a registrar register a user who then enrolls, and refuses one without the role or a valid signature', async () => {
    const ca = await memoryCa(256)
    const admin = await enrollByHand(ca, suite, 'WebAppAdmin', 'DJY27pEnl16d')
    const register = (id: string, role: Role, key = admin.signKey, registrar = 'WebAppAdmin') => {
      const req = create(RegisterUserReqSchema, { id: { id }, role, affiliation: 'bank_a', registrar: { id: { id: registrar } } })
      req.sig = signRequest(suite, key, RegisterUserReqSchema, req)
      return ca.eca.ecaa.registerUser(req)
    }
    const token = fromUtf8((await register('dana', Role.CLIENT)).tok)
    const dana = await enrollByHand(ca, suite, 'dana', token)
    expect(parseCertificate(dana.resp.certs!.sign).subject.commonName).toBe('dana\\bank_a')
    await expect(register('erin', Role.PEER)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
    await expect(register('fred', Role.CLIENT, generateEcKey(suite.curve))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' })
    await expect(register('gina', Role.CLIENT, dana.signKey, 'dana')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
    await expect(register('hank', Role.CLIENT, admin.signKey, 'admin')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    for (const id of ['erin', 'fred', 'gina', 'hank']) expect(await ca.store.user(id)).toBeUndefined()
  })

  it('lists users of a role to an auditor only', async () => {
    const ca = await createMembershipServices({ store: await memoryStore(), scheduler: systemScheduler },
      loadCaConfig({ yaml: 'eca:\n  users:\n    audrey: 8 pw\n    vp: 4 pw2\n    lukas: 1 pw3 bank_a\n' }))
    const audrey = await enrollByHand(ca, suite, 'audrey', 'pw')
    const lukas = await enrollByHand(ca, suite, 'lukas', 'pw3')
    const read = (id: string, key = audrey.signKey) => {
      const req = create(ReadUserSetReqSchema, { req: { id }, role: Role.VALIDATOR | Role.CLIENT })
      req.sig = signRequest(suite, key, ReadUserSetReqSchema, req)
      return ca.eca.ecaa.readUserSet(req)
    }
    expect((await read('audrey')).users.map(u => [u.id!.id, u.role]).sort()).toEqual([['lukas', 1], ['vp', 4]])
    await expect(read('lukas', lukas.signKey)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
  })

  it('revokes an ECert: no TCerts for it afterwards, and no second enrollment', async () => {
    const ca = await memoryCa(256)
    const jim = await enrollByHand(ca, suite, 'jim', '6avZQLwcUe9b')
    const other = await enrollByHand(ca, suite, 'lukas', 'NPKYL39uKbkj')
    const revoke = (id: string, key = jim.signKey) => {
      const req = create(ECertRevokeReqSchema, { id: { id }, cert: { cert: jim.resp.certs!.sign } })
      req.sig = signRequest(suite, key, ECertRevokeReqSchema, req)
      return ca.eca.ecap.revokeCertificatePair(req)
    }
    await expect(revoke('lukas', other.signKey)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
    await revoke('jim')
    const req = create(TCertCreateSetReqSchema, { ts: timestampFromMs(Date.now()), id: { id: 'jim' }, num: 1 })
    req.sig = signRequest(suite, jim.signKey, TCertCreateSetReqSchema, req)
    await expect(ca.tca.tcap.createCertificateSet(req)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
    await expect(ca.eca.ecap.createCertificatePair(jim.phase2)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' })
    await expect(ca.eca.ecaa.publishCRL(create(ECertCRLReqSchema))).rejects.toMatchObject({ code: 'UNIMPLEMENTED' })
  })
})

describe('TCA and TLSCA', () => {
  it('refuses a TCert request with a bad signature, from a user never enrolled, and for a validator', async () => {
    const ca = await memoryCa(256)
    const jim = await enrollByHand(ca, suite, 'jim', '6avZQLwcUe9b')
    const vp = await enrollByHand(ca, suite, 'vp', 'f3489fy98ghf')
    const ask = (id: string, key = jim.signKey) => {
      const req = create(TCertCreateSetReqSchema, { ts: timestampFromMs(Date.now()), id: { id }, num: 2 })
      req.sig = signRequest(suite, key, TCertCreateSetReqSchema, req)
      return ca.tca.tcap.createCertificateSet(req)
    }
    await expect(ask('jim', generateEcKey(suite.curve))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' })
    await expect(ask('lukas')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(ask('vp', vp.signKey)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' })
    expect(fromUtf8(vp.resp.pkchain)).toContain('ECDSA PRIVATE KEY')
    expect((await ca.store.tcertSetsOf('jim'))).toHaveLength(0)
  })

  it('issues a TLS certificate to the holder of a key, signed by the TLSCA', async () => {
    const ca = await memoryCa(256)
    const key = generateEcKey(suite.curve)
    const req = create(TLSCertCreateReqSchema, { ts: timestampFromMs(Date.now()), id: { id: 'peer0' }, pub: { type: CryptoType.ECDSA, key: marshalPublicKey(key.publicKey) } })
    req.sig = signRequest(suite, key, TLSCertCreateReqSchema, req)
    const resp = await ca.tlsca.tlscap.createCertificate(req)
    const cert = parseCertificate(resp.cert!.cert)
    expect(checkSignatureFrom(cert, parseCertificate(resp.rootCert!.cert))).toBe(true)
    expect(cert.subject.commonName).toBe('peer0')
    expect((await ca.tlsca.tlscap.readCertificate({ id: { id: 'peer0' } } as never)).cert).toEqual(resp.cert!.cert)
    const forged = create(TLSCertCreateReqSchema, { ...req, sig: signRequest(suite, generateEcKey(suite.curve), TLSCertCreateReqSchema, req) })
    await expect(ca.tlsca.tlscap.createCertificate(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' })
  })

  it('keeps the authorities\' keys and certificates across a restart', async () => {
    const kv = await memoryStore()
    const open = async () => await createMembershipServices({ store: kv, scheduler: systemScheduler }, loadCaConfig())
    const first = await open()
    const second = await open()
    expect(toHex(second.eca.authority.raw)).toBe(toHex(first.eca.authority.raw))
    expect(toHex(second.tca.authority.raw)).toBe(toHex(first.tca.authority.raw))
    expect(toHex(second.tlsca.authority.raw)).toBe(toHex(first.tlsca.authority.raw))
  })
})
