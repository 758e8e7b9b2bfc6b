import { clone, create, toBinary } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import { describe, expect, it } from 'vitest'
import { isAttributeOid, validAttributes } from '../../src/ca/aca.ts'
import { loadCaConfig } from '../../src/ca/config.ts'
import { createMembershipServices } from '../../src/ca/membership.ts'
import { fromUtf8 } from '../../src/crypto/bytes.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { getExtension, parseCertificate } from '../../src/crypto/fabric/x509.ts'
import { ACAAttrReqSchema, FetchAttrsResult_StatusCode, RegisterUserReqSchema, Role, TCertCreateSetReqSchema } from '../../src/protos/ca_pb.ts'
import { memoryStore } from '../../src/storage/memory.ts'
import { systemScheduler } from '../../src/util/scheduler.ts'
import { enrollByHand, signRequest } from './ca-helpers.ts'

const suite = cryptoSuite('SHA3', 256)

const yaml = `
aca:
  enabled: true
  attributes:
    attribute-entry-0: alice;bank_a;role;client;2016-01-01T00:00:00-03:00;;
    attribute-entry-1: alice;bank_a;account;12345-56789;2016-01-01T00:00:00-03:00;;
    attribute-entry-2: alice;bank_a;expired;x;2015-01-01T00:00:00-03:00;2015-07-12T23:59:59-03:00;
    attribute-entry-3: jim;bank_a;position;Software Engineer;2015-07-13T00:00:00-03:00;;
`

async function caWithAttributes (): Promise<Awaited<ReturnType<typeof createMembershipServices>>> {
  const config = loadCaConfig({ yaml })
  config.eca.users = loadCaConfig().eca.users
  return await createMembershipServices({ store: await memoryStore(), scheduler: systemScheduler }, config)
}

async function tcertsWith (ca: Awaited<ReturnType<typeof caWithAttributes>>, id: string, signKey: Parameters<typeof signRequest>[1], names: string[]) {
  const req = create(TCertCreateSetReqSchema, { ts: timestampFromMs(Date.now()), id: { id }, num: 2, attributes: names.map(attributeName => ({ attributeName })) })
  req.sig = signRequest(suite, signKey, TCertCreateSetReqSchema, req)
  return (await ca.tca.tcap.createCertificateSet(req)).certs!.certs.map(t => parseCertificate(t.cert))
}

describe('ACA (aca.enabled)', () => {
  it('puts the attributes a TCert request names, and that hold now, in each TCert with Fabric\'s header', async () => {
    const ca = await caWithAttributes()
    const alice = await enrollByHand(ca, suite, 'alice', 'CMS10pEQlB16')
    expect(alice.resp.fetchResult!.status).toBe(FetchAttrsResult_StatusCode.SUCCESS)
    for (const tcert of await tcertsWith(ca, 'alice', alice.signKey, ['role', 'account', 'expired', 'unknown'])) {
      expect(fromUtf8(getExtension(tcert, '1.2.3.4.5.6.10'))).toBe('client')
      expect(fromUtf8(getExtension(tcert, '1.2.3.4.5.6.11'))).toBe('12345-56789')
      expect(fromUtf8(getExtension(tcert, '1.2.3.4.5.6.9'))).toBe('00HEADrole->1#account->2#')
      expect(tcert.extensions.map(e => e.id)).not.toContain('1.2.3.4.5.6.12')
    }
  })

  it('gives TCerts without attribute extensions when none are asked for', async () => {
    const ca = await caWithAttributes()
    const jim = await enrollByHand(ca, suite, 'jim', '6avZQLwcUe9b')
    const [tcert] = await tcertsWith(ca, 'jim', jim.signKey, [])
    expect(tcert.extensions.map(e => e.id).filter(id => id.startsWith('1.2.3.4.5.6.'))).toEqual(['1.2.3.4.5.6.7', '1.2.3.4.5.6.8'])
  })

  it('keeps the attributes a registrar gives a new user', async () => {
    const ca = await caWithAttributes()
    const admin = await enrollByHand(ca, suite, 'admin', 'Xurw3yU9zI0l')
    const req = create(RegisterUserReqSchema, {
      id: { id: 'nina' }, role: Role.CLIENT, affiliation: 'bank_b', registrar: { id: { id: 'admin' } },
      attributes: [{ name: 'level', value: 'gold', notBefore: '2016-01-01T00:00:00Z', notAfter: '' }]
    })
    req.sig = signRequest(suite, admin.signKey, RegisterUserReqSchema, req)
    const nina = await enrollByHand(ca, suite, 'nina', fromUtf8((await ca.eca.ecaa.registerUser(req)).tok))
    const [tcert] = await tcertsWith(ca, 'nina', nina.signKey, ['level'])
    expect(fromUtf8(getExtension(tcert, '1.2.3.4.5.6.10'))).toBe('gold')
  })

  it('answers only requests the TCA signed', async () => {
    const ca = await caWithAttributes()
    const alice = await enrollByHand(ca, suite, 'alice', 'CMS10pEQlB16')
    const req = create(ACAAttrReqSchema, { ts: timestampFromMs(Date.now()), id: { id: 'alice' }, eCert: { cert: alice.resp.certs!.sign }, attributes: [{ attributeName: 'role' }] })
    req.signature = signRequest(suite, alice.signKey, ACAAttrReqSchema, req)
    await expect(ca.aca.acap.requestAttributes(req)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' })
    const unsigned = clone(ACAAttrReqSchema, req)
    unsigned.signature = undefined
    req.signature = ca.aca.sign(ca.tca.authority, toBinary(ACAAttrReqSchema, unsigned))
    const resp = await ca.aca.acap.requestAttributes(req)
    expect(validAttributes(resp.cert!.cert, Date.now()).map(a => a.attributeName)).toEqual(['role'])
  })

  it('knows which extensions hold attributes', () => {
    expect(['1.2.3.4.5.6.11', '1.2.3.4.5.6.10', '1.2.3.4.5.6.7', '1.2.3.4.5.7.11'].map(isAttributeOid)).toEqual([true, false, false, false])
  })
})
