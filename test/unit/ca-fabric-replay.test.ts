import { fromBinary, toBinary, type DescMessage } from '@bufbuild/protobuf'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadCaConfig } from '../../src/ca/config.ts'
import { createMembershipServices, type MembershipServices } from '../../src/ca/membership.ts'
import { fromHex, toHex, utf8 } from '../../src/crypto/bytes.ts'
import { ecdsaSign, ecdsaVerify } from '../../src/crypto/fabric/ecdsa.ts'
import { parsePublicKey, pemToPrivateKey } from '../../src/crypto/fabric/keys.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { tcertPrivateKey } from '../../src/crypto/fabric/tcert.ts'
import { parseCertificate } from '../../src/crypto/fabric/x509.ts'
import { ECAP, TCAP, TLSCAP, type ECertCreateReq, type ECertCreateResp, type TCertCreateSetResp } from '../../src/protos/ca_pb.ts'
import { memoryStore } from '../../src/storage/memory.ts'
import { systemScheduler } from '../../src/util/scheduler.ts'
import { seededBytes } from './ca-helpers.ts'

interface Recording {
  seed: string
  level: 256 | 384
  hashAlgorithm: string
  jimEnrollmentKey: string
  calls: Array<{ service: 'ECAP' | 'TCAP' | 'TLSCAP', method: string, request: string, response?: string }>
}

const services = { ECAP, TCAP, TLSCAP }

function target (ca: MembershipServices, service: Recording['calls'][number]['service']): Record<string, (req: never) => Promise<unknown>> {
  return { ECAP: ca.eca.ecap, TCAP: ca.tca.tcap, TLSCAP: ca.tlsca.tlscap }[service]
}

// Fabric's own peer enrolled with Weft's CA (a validator at start, then a user through REST); the CA
// is made again from the recording's seed, and Fabric's requests are sent to it in their order.
for (const file of ['fabric-peer-enrollment-256.json', 'fabric-peer-enrollment-384.json']) {
  const rec = JSON.parse(readFileSync(new URL(`../fixtures/ca/${file}`, import.meta.url), 'utf8')) as Recording
  const suite = cryptoSuite(rec.hashAlgorithm, rec.level)

  describe(`Fabric's peer enrolling with Weft's CA (${file})`, () => {
    it('gets the same challenges, its signed answers accepted, and TCerts whose keys its enrollment key derives', async () => {
      const config = loadCaConfig({ env: { MEMBERSRVC_CA_SECURITY_LEVEL: String(rec.level), MEMBERSRVC_CA_SECURITY_HASHALGORITHM: rec.hashAlgorithm } })
      const ca = await createMembershipServices({ store: await memoryStore(), scheduler: systemScheduler, randomBytes: seededBytes(rec.seed) }, config)
      const enrolled: string[] = []
      let tcerts: TCertCreateSetResp | undefined
      for (const call of rec.calls) {
        const method = services[call.service].methods.find(m => m.name === call.method)!
        const req = fromBinary(method.input as DescMessage, fromHex(call.request)) as never
        const res = await target(ca, call.service)[method.localName](req)
        if (call.response !== undefined) expect(toHex(toBinary(method.output as DescMessage, res as never))).toBe(call.response)
        if (call.method === 'CreateCertificatePair' && (res as ECertCreateResp).certs !== undefined) {
          const sent = req as ECertCreateReq
          const ecert = parseCertificate((res as ECertCreateResp).certs!.sign)
          expect(toHex(ecert.publicKey.point)).toBe(toHex(parsePublicKey(sent.sign!.key).point))
          enrolled.push(sent.id!.id)
        }
        if (call.method === 'CreateCertificateSet') tcerts = res as TCertCreateSetResp
      }
      expect(enrolled).toEqual(['test_vp0', 'jim'])
      const jimKey = pemToPrivateKey(rec.jimEnrollmentKey)
      expect(tcerts!.certs!.certs.length).toBeGreaterThan(0)
      for (const t of tcerts!.certs!.certs.slice(0, 5)) {
        const cert = parseCertificate(t.cert)
        const key = tcertPrivateKey(suite, jimKey, tcerts!.certs!.key, cert)
        const msg = utf8('signed with a TCert key Fabric\'s client would derive')
        expect(ecdsaVerify(suite, cert.publicKey, msg, ecdsaSign(suite, key, msg))).toBe(true)
      }
    })
  })
}
