import { fromBinary, toBinary, type DescService } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { fromHex, toHex, utf8 } from '../../src/crypto/bytes.ts'
import { cbcPkcs7Decrypt } from '../../src/crypto/fabric/aes.ts'
import type { CaClient, Enrollment } from '../../src/crypto/fabric/ca-client.ts'
import type { CaRpc } from '../../src/crypto/fabric/ca-rpc.ts'
import { samePublicKey } from '../../src/crypto/fabric/ec-key.ts'
import { ecdsaSign, ecdsaVerify } from '../../src/crypto/fabric/ecdsa.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { affiliationPreKey, deriveTCertPublicKey, tcertKdfKey, tcertOwnerKeys, tcertPreK0, tcertPrivateKey } from '../../src/crypto/fabric/tcert.ts'
import { OID_TCERT_ENC_TCERT_INDEX, getExtension } from '../../src/crypto/fabric/x509.ts'
import { ECAP, TCAP, TLSCAP } from '../../src/protos/ca_pb.ts'
import { type Recording, loadRecording, recordings, replayClient } from './membersrvc-recording.ts'

function replay (rec: Recording): { client: CaClient, done: () => void } {
  const exchanges = [...rec.exchanges]
  const service = (name: string, desc: DescService): Record<string, (req: never) => Promise<unknown>> => {
    const calls: Record<string, (req: never) => Promise<unknown>> = {}
    for (const m of desc.methods) {
      calls[m.localName] = async (req: never) => {
        const e = exchanges.shift()
        expect(e && `${e.service}.${e.method}`).toBe(`${name}.${m.localName}`)
        expect(toHex(toBinary(m.input, req))).toBe(e!.request)
        if (e!.error !== undefined) throw new Error(e!.error)
        return fromBinary(m.output, fromHex(e!.response!))
      }
    }
    return calls
  }
  const rpc = { ecap: service('ECAP', ECAP), tcap: service('TCAP', TCAP), tlscap: service('TLSCAP', TLSCAP) } as unknown as CaRpc
  const { client, done } = replayClient(rec, rpc)
  return { client, done: () => { done(); expect(exchanges).toEqual([]) } }
}

for (const name of recordings) {
  const rec = loadRecording(name)
  const suite = cryptoSuite(rec.hashAlgorithm, rec.level)

  describe(`enrolment with Fabric's membersrvc, replayed (${name})`, () => {
    it('enrols, gets TCerts whose derived keys sign for their public keys, gets TLS certificates, and is refused as Fabric refuses', async () => {
      const { client, done } = replay(rec)
      const enrolled: Enrollment[] = []
      for (const step of rec.steps) {
        if (step.step === 'enroll' && step.error !== undefined) {
          await expect(client.enroll(step.user, step.secret!)).rejects.toThrow(step.error)
        } else if (step.step === 'enroll') {
          const e = await client.enroll(step.user, step.secret!)
          expect(e.role).toBe(step.role)
          expect(e.ecert.subject.commonName).toBe(step.ecertCN)
          expect(e.ecert.publicKey.curve).toBe(suite.curve)
          expect(new TextDecoder().decode(e.chainKey)).toMatch(e.role === 4 ? /^-----BEGIN ECDSA PRIVATE KEY-----/ : /^-----BEGIN ECDSA PUBLIC KEY-----/)
          enrolled.push(e)
        } else if (step.step === 'tcerts') {
          const e = enrolled.find((x) => x.enrollId === step.user)!
          const tcaCert = await client.readTcaCertificate()
          const batch = await client.getTCerts(e.enrollId, e.signKey, 3, { tcaCert })
          expect(batch.tcerts.length).toBe(3)
          const { encryptKey } = tcertOwnerKeys(suite, batch.kdfKey)
          for (const t of batch.tcerts) {
            expect(t.cert.subject.commonName).toBe('Transaction Certificate')
            expect(ecdsaVerify(suite, t.cert.publicKey, utf8('tx'), ecdsaSign(suite, t.privateKey, utf8('tx')))).toBe(true)
            // the TCA side of the derivation gives the public key Fabric's TCA put in the certificate
            const index = cbcPkcs7Decrypt(encryptKey, getExtension(t.cert, OID_TCERT_ENC_TCERT_INDEX))
            expect(samePublicKey(deriveTCertPublicKey(suite, e.signKey.publicKey, batch.kdfKey, index).publicKey, t.cert.publicKey)).toBe(true)
            if (rec.tcaRootPreKey !== undefined) {
              // test_user0 is in bank_a, under banks under banks_and_institutions (the root group)
              const bankA = affiliationPreKey(suite, affiliationPreKey(suite, fromHex(rec.tcaRootPreKey), 'banks'), 'bank_a')
              expect(toHex(tcertPreK0(suite, bankA, t.cert.serialNumber))).toBe(toHex(t.preK0))
            }
          }
          if (rec.tcaHmacKey !== undefined) expect(toHex(tcertKdfKey(suite, fromHex(rec.tcaHmacKey), e.signKey.publicKey))).toBe(toHex(batch.kdfKey))
          // with another key (here the user's own encryption key) the derived key is not the TCert's
          expect(() => tcertPrivateKey(suite, e.encKey, batch.kdfKey, batch.tcerts[0].cert)).toThrow('Derived public key is different')
        } else if (step.step === 'tls') {
          const tls = await client.getTlsCertificate(step.user)
          expect(tls.cert.subject.commonName.startsWith(`${step.user}-`)).toBe(true)
          expect(tls.rootCert.subject.commonName).toBe('tlsca')
        }
      }
      done()
    })
  })
}
