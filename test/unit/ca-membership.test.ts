import { create } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import { describe, expect, it } from 'vitest'
import { fromUtf8, utf8 } from '../../src/crypto/bytes.ts'
import { ecdsaSign, ecdsaVerify } from '../../src/crypto/fabric/ecdsa.ts'
import { generateEcKey } from '../../src/crypto/fabric/ec-key.ts'
import { marshalPublicKey } from '../../src/crypto/fabric/keys.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { tcertPrivateKey } from '../../src/crypto/fabric/tcert.ts'
import { KeyUsage, OID_ECERT_SUBJECT_ROLE, checkSignatureFrom, getExtension, parseCertificate } from '../../src/crypto/fabric/x509.ts'
import { EmptySchema, PublicKeySchema, TCertCreateSetReqSchema } from '../../src/protos/ca_pb.ts'
import { answer, challenge, enrollByHand, memoryCa, signRequest } from './ca-helpers.ts'

for (const level of [256, 384] as const) {
  const suite = cryptoSuite('SHA3', level)

  describe(`membership services at security level ${level}`, () => {
    it('enrolls in two phases and issues an ECert pair signed by the ECA', async () => {
      const ca = await memoryCa(level)
      const { resp, signKey, encKey } = await enrollByHand(ca, suite, 'lukas', 'NPKYL39uKbkj')
      const root = parseCertificate((await ca.eca.ecap.readCACertificate(create(EmptySchema))).cert)
      const sign = parseCertificate(resp.certs!.sign)
      const enc = parseCertificate(resp.certs!.enc)
      expect(checkSignatureFrom(sign, root)).toBe(true)
      expect(sign.subject.commonName).toBe('lukas\\bank_a')
      expect(sign.keyUsage).toBe(KeyUsage.DigitalSignature)
      expect(enc.keyUsage).toBe(KeyUsage.DataEncipherment)
      expect(sign.publicKey.point).toEqual(signKey.publicKey.point)
      expect(enc.publicKey.point).toEqual(encKey.publicKey.point)
      expect(fromUtf8(getExtension(sign, OID_ECERT_SUBJECT_ROLE))).toBe('1')
      expect(resp.chain!.tok.length).toBe(32)
      expect(fromUtf8(resp.pkchain)).toContain('ECDSA PUBLIC KEY')
      const pair = await ca.eca.ecap.readCertificatePair({ id: { id: 'lukas' } } as never)
      expect(pair.sign).toEqual(resp.certs!.sign)
      expect(pair.enc).toEqual(resp.certs!.enc)
    })

    it('issues TCerts whose derived keys sign what the TCert public key verifies', async () => {
      const ca = await memoryCa(level)
      const { signKey } = await enrollByHand(ca, suite, 'jim', '6avZQLwcUe9b')
      const req = create(TCertCreateSetReqSchema, { ts: timestampFromMs(Date.now()), id: { id: 'jim' }, num: 3 })
      req.sig = signRequest(suite, signKey, TCertCreateSetReqSchema, req)
      const set = (await ca.tca.tcap.createCertificateSet(req)).certs!
      expect(set.certs).toHaveLength(3)
      const tcaRoot = parseCertificate(ca.tca.authority.raw)
      for (const t of set.certs) {
        const tcert = parseCertificate(t.cert)
        expect(checkSignatureFrom(tcert, tcaRoot)).toBe(true)
        const key = tcertPrivateKey(suite, signKey, set.key, tcert)
        const msg = utf8('a transaction')
        expect(ecdsaVerify(suite, tcert.publicKey, msg, ecdsaSign(suite, key, msg))).toBe(true)
      }
    })

    it('refuses a wrong secret and an unknown user, storing nothing', async () => {
      const ca = await memoryCa(level)
      await expect(enrollByHand(ca, suite, 'lukas', 'wrong')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' })
      await expect(enrollByHand(ca, suite, 'nobody', 'x')).rejects.toMatchObject({ code: 'NOT_FOUND' })
      expect((await ca.store.user('lukas'))!.state).toBe(0)
      await enrollByHand(ca, suite, 'lukas', 'NPKYL39uKbkj')
    })

    it('refuses a second enrollment and a replayed challenge response', async () => {
      const ca = await memoryCa(level)
      const first = await enrollByHand(ca, suite, 'lukas', 'NPKYL39uKbkj')
      await expect(enrollByHand(ca, suite, 'lukas', 'NPKYL39uKbkj')).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' })
      await expect(ca.eca.ecap.createCertificatePair(first.phase2)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' })
      expect(await ca.store.certificatesOf('eca', 'lukas')).toHaveLength(2)
    })

    it('refuses a forged challenge response, a forged signature and a swapped key, and keeps the challenge open', async () => {
      const ca = await memoryCa(level)
      const c = await challenge(ca, suite, 'bob', 'NOE63pEQbL25')
      await expect(ca.eca.ecap.createCertificatePair(answer(suite, c, utf8('guessedToken')))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' })
      await expect(ca.eca.ecap.createCertificatePair(answer(suite, c, c.challenge, generateEcKey(suite.curve)))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' })
      const swapped = answer(suite, c)
      swapped.enc = create(PublicKeySchema, { key: marshalPublicKey(generateEcKey(suite.curve).publicKey) })
      await expect(ca.eca.ecap.createCertificatePair(swapped)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' })
      expect(await ca.store.certificatesOf('eca', 'bob')).toHaveLength(0)
      expect((await ca.eca.ecap.createCertificatePair(answer(suite, c))).certs).toBeDefined()
    })
  })
}
