import { describe, expect, it } from 'vitest'
import { utf8 } from '../../src/crypto/bytes.ts'
import { cbcPkcs7Decrypt, cbcPkcs7Encrypt } from '../../src/crypto/fabric/aes.ts'
import { generateEcKey, samePublicKey } from '../../src/crypto/fabric/ec-key.ts'
import { decodeEcdsaSignature, ecdsaSign, ecdsaVerify } from '../../src/crypto/fabric/ecdsa.ts'
import { eciesDecrypt, eciesEncrypt } from '../../src/crypto/fabric/ecies.ts'
import { marshalPrivateKey, marshalPublicKey, parsePrivateKey, parsePublicKey, pemToPrivateKey, privateKeyToPem } from '../../src/crypto/fabric/keys.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { deriveTCertPublicKey, deriveTCertPrivateKey, tcertBatchNonce, tcertIndex } from '../../src/crypto/fabric/tcert.ts'
import { KeyUsage, OID_TCERT_ENC_TCERT_INDEX, createCertificate, parseCertificate, verifyCertificate } from '../../src/crypto/fabric/x509.ts'

// Weft against itself; the Fabric-computed vectors are in fabric-crypto-vectors.test.ts.
for (const [alg, level] of [['SHA3', 256], ['SHA2', 384]] as const) {
  describe(`Fabric crypto round trips, ${alg} ${level}`, () => {
    const suite = cryptoSuite(alg, level)

    it('refuses what InitSecurityLevel refuses', () => {
      expect(() => cryptoSuite('SHA1', 256)).toThrow('Algorithm not supported [SHA1]')
      expect(() => cryptoSuite('SHA3', 512)).toThrow('Security level not supported [512]')
    })

    it('signs and verifies; a changed message or a garbled signature fails', () => {
      const key = generateEcKey(suite.curve)
      const sig = ecdsaSign(suite, key, utf8('hello'))
      expect(ecdsaVerify(suite, key.publicKey, utf8('hello'), sig)).toBe(true)
      expect(ecdsaVerify(suite, key.publicKey, utf8('hellp'), sig)).toBe(false)
      expect(ecdsaVerify(suite, key.publicKey, utf8('hello'), sig.slice(1))).toBe(false)
      expect(decodeEcdsaSignature(sig).r > 0n).toBe(true)
    })

    it('marshals keys and reads them back', () => {
      const key = generateEcKey(suite.curve)
      expect(parsePrivateKey(marshalPrivateKey(key)).d).toBe(key.d)
      expect(pemToPrivateKey(privateKeyToPem(key)).d).toBe(key.d)
      expect(samePublicKey(parsePublicKey(marshalPublicKey(key.publicKey)), key.publicKey)).toBe(true)
    })

    it('encrypts with ECIES and AES and rejects a flipped tag or wrong padding', () => {
      const key = generateEcKey(suite.curve)
      const ct = eciesEncrypt(suite, key.publicKey, utf8('challenge'))
      expect(eciesDecrypt(suite, key, ct)).toEqual(utf8('challenge'))
      ct[ct.length - 1] ^= 1
      expect(() => eciesDecrypt(suite, key, ct)).toThrow('Tag check failed')
      const aesKey = new Uint8Array(32).fill(7)
      const enc = cbcPkcs7Encrypt(aesKey, utf8('sixteen bytes!!!'))
      expect(enc.length).toBe(48)
      expect(cbcPkcs7Decrypt(aesKey, enc)).toEqual(utf8('sixteen bytes!!!'))
      expect(() => cbcPkcs7Decrypt(new Uint8Array(32), enc)).toThrow()
    })

    it('issues a TCert whose derived private key signs what its public key verifies', () => {
      const caKey = generateEcKey(suite.curve)
      const now = new Date('2026-01-01T00:00:00Z')
      const later = new Date('2026-04-01T00:00:00Z')
      const subject = { commonName: 'tca', organization: ['Hyperledger'], country: ['US'] }
      const caDer = createCertificate({ serialNumber: 1n, subject, notBefore: now, notAfter: later, keyUsage: KeyUsage.DigitalSignature | KeyUsage.CertSign, isCA: true, subjectKeyId: Uint8Array.of(1, 2, 3, 4) }, undefined, caKey.publicKey, caKey)
      const ca = parseCertificate(caDer)
      const enroll = generateEcKey(suite.curve)
      const kdfKey = suite.hmac(utf8('tca hmac key'), marshalPublicKey(enroll.publicKey))
      const index = tcertIndex(0, tcertBatchNonce(1234n))
      const { publicKey, encryptedIndex } = deriveTCertPublicKey(suite, enroll.publicKey, kdfKey, index)
      const tcertDer = createCertificate({
        serialNumber: 99n, subject: { commonName: 'Transaction Certificate', organization: ['Hyperledger'], country: ['US'] }, notBefore: now, notAfter: later,
        keyUsage: KeyUsage.DigitalSignature, isCA: false, subjectKeyId: Uint8Array.of(1, 2, 3, 4),
        extraExtensions: [{ id: OID_TCERT_ENC_TCERT_INDEX, critical: true, value: encryptedIndex }]
      }, ca, publicKey, caKey)
      const tcert = parseCertificate(tcertDer)
      expect(() => verifyCertificate(tcert, [ca], { now })).toThrow('unhandled critical extension')
      expect(verifyCertificate(tcert, [ca], { now, handledCritical: [OID_TCERT_ENC_TCERT_INDEX] })).toBe(ca)
      const tkey = deriveTCertPrivateKey(suite, enroll, kdfKey, encryptedIndex)
      expect(samePublicKey(tkey.publicKey, tcert.publicKey)).toBe(true)
      expect(ecdsaVerify(suite, tcert.publicKey, utf8('tx'), ecdsaSign(suite, tkey, utf8('tx')))).toBe(true)
    })
  })
}
