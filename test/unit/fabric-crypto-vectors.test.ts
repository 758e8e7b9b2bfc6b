import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fromHex, toHex, utf8 } from '../../src/crypto/bytes.ts'
import { cbcPkcs7Decrypt, pkcs7Pad } from '../../src/crypto/fabric/aes.ts'
import { samePublicKey } from '../../src/crypto/fabric/ec-key.ts'
import { ecdsaVerify } from '../../src/crypto/fabric/ecdsa.ts'
import { eciesDecrypt } from '../../src/crypto/fabric/ecies.ts'
import { marshalPrivateKey, marshalPublicKey, parsePrivateKey, pemToPrivateKey, pemToPublicKey, privateKeyToPem, publicKeyToPem } from '../../src/crypto/fabric/keys.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { deriveTCertPublicKey, tcertKdfKey, tcertPrivateKey } from '../../src/crypto/fabric/tcert.ts'
import {
  type FabricCertificate, OID_ECERT_SUBJECT_ROLE, OID_TCERT_ENC_TCERT_INDEX, createCertificate, getExtension, parseCertificate, verifyCertificate
} from '../../src/crypto/fabric/x509.ts'

// Computed by Fabric 0.6.1's own Go code (core/crypto/primitives, primitives/ecies, and Go 1.19's
// crypto/x509 with membersrvc's certificate template; the TCert part follows membersrvc/ca/tcap.go and
// core/crypto/client_tca.go step by step with Fabric's primitives) by a throwaway program.
const vectors = JSON.parse(readFileSync(new URL('../vectors/security/fabric-primitives.json', import.meta.url), 'utf8'))

interface GoCert { der: string, tbs: string, serial: string, subjectCN: string, issuerCN: string, notBefore: number, notAfter: number, keyUsage: number, isCA: boolean, publicKey: string, subjectKeyId: string, authorityKeyId: string, extensions: Array<{ id: string, critical: boolean, value: string }> }

function expectSameCert (c: FabricCertificate, go: GoCert): void {
  expect(toHex(c.rawTbs)).toBe(go.tbs)
  expect(c.serialNumber.toString()).toBe(go.serial)
  expect(c.subject.commonName).toBe(go.subjectCN)
  expect(c.issuer.commonName).toBe(go.issuerCN)
  expect(c.notBefore.getTime() / 1000).toBe(go.notBefore)
  expect(c.notAfter.getTime() / 1000).toBe(go.notAfter)
  expect(c.keyUsage).toBe(go.keyUsage)
  expect(c.isCA).toBe(go.isCA)
  expect(toHex(marshalPublicKey(c.publicKey))).toBe(go.publicKey)
  expect(toHex(c.subjectKeyId ?? new Uint8Array())).toBe(go.subjectKeyId)
  expect(toHex(c.authorityKeyId ?? new Uint8Array())).toBe(go.authorityKeyId)
  expect(c.extensions.map((e) => ({ id: e.id, critical: e.critical, value: toHex(e.value) }))).toEqual(go.extensions)
}

const at = new Date('2026-06-01T00:00:00Z')

for (const v of vectors.suites) {
  describe(`Fabric 0.6.1 crypto vectors, ${v.hashAlgorithm} ${v.level}`, () => {
    const suite = cryptoSuite(v.hashAlgorithm, v.level)

    it('hashes and HMACs as primitives.Hash/HMAC/HMACAESTruncated', () => {
      for (const c of v.hashes) {
        expect(toHex(suite.hash(fromHex(c.msg)))).toBe(c.hash)
        expect(toHex(suite.hmac(utf8('key'), fromHex(c.msg)))).toBe(c.hmac)
        expect(toHex(suite.hmacAESTruncated(utf8('key'), fromHex(c.msg)))).toBe(c.hmacAES)
      }
    })

    it('reads and writes keys byte for byte as Fabric, and verifies signatures Go made', () => {
      const key = parsePrivateKey(fromHex(v.ecdsa.privateDer))
      expect(key.d.toString(16)).toBe(v.ecdsa.d)
      expect(key.curve).toBe(suite.curve)
      expect(toHex(marshalPrivateKey(key))).toBe(v.ecdsa.privateDer)
      expect(privateKeyToPem(key)).toBe(v.ecdsa.privatePem)
      expect(toHex(marshalPublicKey(key.publicKey))).toBe(v.ecdsa.publicDer)
      expect(publicKeyToPem(key.publicKey)).toBe(v.ecdsa.publicPem)
      expect(pemToPrivateKey(v.ecdsa.privatePem).d).toBe(key.d)
      expect(samePublicKey(pemToPublicKey(v.ecdsa.publicPem), key.publicKey)).toBe(true)
      for (const s of v.ecdsa.signatures) {
        expect(ecdsaVerify(suite, key.publicKey, fromHex(s.msg), fromHex(s.sig))).toBe(true)
        expect(ecdsaVerify(suite, key.publicKey, utf8('other'), fromHex(s.sig))).toBe(false)
      }
    })

    it('decrypts ECIES ciphertexts Go made', () => {
      const key = parsePrivateKey(fromHex(v.ecies.privateDer))
      for (const c of v.ecies.ciphertexts) expect(toHex(eciesDecrypt(suite, key, fromHex(c.ciphertext)))).toBe(c.plain)
    })

    it('decrypts AES-CBC/PKCS7 ciphertexts Go made and pads as Go', () => {
      for (const c of v.aes.cases) {
        expect(toHex(cbcPkcs7Decrypt(fromHex(v.aes.key), fromHex(c.ciphertext)))).toBe(c.plain)
        expect(toHex(pkcs7Pad(fromHex(c.plain)))).toBe(c.padded)
      }
    })

    it('parses Go-made CA certificates and ECerts, verifies the chain, and writes the same TBS bytes', () => {
      const ca = parseCertificate(fromHex(v.x509.ca.der))
      const ecert = parseCertificate(fromHex(v.x509.ecert.der))
      expectSameCert(ca, v.x509.ca)
      expectSameCert(ecert, v.x509.ecert)
      expect(() => verifyCertificate(ecert, [ca], { now: at })).toThrow('unhandled critical extension 2.1.3.4.5.6.7')
      expect(verifyCertificate(ecert, [ca], { now: at, handledCritical: [OID_ECERT_SUBJECT_ROLE] })).toBe(ca)
      expect(() => verifyCertificate(ecert, [ecert], { now: at, handledCritical: [OID_ECERT_SUBJECT_ROLE] })).toThrow('unknown authority')

      const caKey = parsePrivateKey(fromHex(v.x509.caKey))
      const userKey = parsePrivateKey(fromHex(v.x509.userKey))
      const mine = parseCertificate(createCertificate({
        serialNumber: 7n, subject: ecert.subject, notBefore: ecert.notBefore, notAfter: ecert.notAfter, keyUsage: ecert.keyUsage, isCA: false,
        subjectKeyId: Uint8Array.of(1, 2, 3, 4), extraExtensions: ecert.extensions.slice(4)
      }, ca, userKey.publicKey, caKey))
      expect(toHex(mine.rawTbs)).toBe(v.x509.ecert.tbs)
      const mineCa = parseCertificate(createCertificate({
        serialNumber: 1n, subject: ca.subject, notBefore: ca.notBefore, notAfter: ca.notAfter, keyUsage: ca.keyUsage, isCA: true, subjectKeyId: Uint8Array.of(1, 2, 3, 4)
      }, undefined, caKey.publicKey, caKey))
      expect(toHex(mineCa.rawTbs)).toBe(v.x509.ca.tbs)
    })

    it('derives TCert keys as the TCA and the owner do', () => {
      const tca = parseCertificate(fromHex(v.tcert.tca.der))
      const enroll = parsePrivateKey(fromHex(v.tcert.enrollKey))
      const kdfKey = tcertKdfKey(suite, fromHex(v.tcert.hmacKey), enroll.publicKey)
      expect(toHex(kdfKey)).toBe(v.tcert.kdfKey)
      for (const c of v.tcert.certs) {
        const tcert = parseCertificate(fromHex(c.cert.der))
        expectSameCert(tcert, c.cert)
        verifyCertificate(tcert, [tca], { now: at, handledCritical: [OID_TCERT_ENC_TCERT_INDEX] })
        const derived = deriveTCertPublicKey(suite, enroll.publicKey, kdfKey, fromHex(c.index))
        expect(samePublicKey(derived.publicKey, tcert.publicKey)).toBe(true)
        const key = tcertPrivateKey(suite, enroll, kdfKey, tcert)
        expect(key.d.toString(16)).toBe(c.derivedD)
        expect(ecdsaVerify(suite, tcert.publicKey, utf8('a transaction'), fromHex(c.sigOfTx))).toBe(true)
        // the index decrypts only with the owner's KDF key
        expect(() => tcertPrivateKey(suite, enroll, suite.hash(utf8('another user')), tcert)).toThrow()
        expect(getExtension(tcert, OID_TCERT_ENC_TCERT_INDEX).length).toBe(64)
      }
    })
  })
}

// Outputs of Weft's code, and what Fabric 0.6.1's Go code (ECDSAVerify, DERToPrivateKey, its ECIES
// decryption, CBCPKCS7Decrypt, x509.ParseCertificate + CheckCertAgainRoot) made of them.
const checked = JSON.parse(readFileSync(new URL('../vectors/security/weft-checked-by-fabric.json', import.meta.url), 'utf8'))

describe('what Weft makes, Fabric accepts', () => {
  checked.weft.forEach((w: any, i: number) => {
    const f = checked.fabric[i]
    it(`${w.hashAlgorithm} ${w.level}: Go verified Weft's signatures and certificates and decrypted its ciphertexts`, () => {
      expect(f.hashAlgorithm).toBe(w.hashAlgorithm)
      expect(f.signaturesValid).toEqual(w.signatures.map(() => true))
      expect(f.privateKeyParses).toBe(true)
      expect(f.eciesPlain).toEqual(w.eciesPlaintexts)
      expect(f.aesPlain).toEqual(w.aesPlaintexts)
      expect(f.certs.map((c: any) => c.verified)).toEqual([true, true, true])
      // Go reads the same fields from them as Weft does
      w.certs.forEach((der: string, j: number) => expectSameCert(parseCertificate(fromHex(der)), f.certs[j].parsed))
      const suite = cryptoSuite(w.hashAlgorithm, w.level)
      const key = parsePrivateKey(fromHex(w.privateDer))
      for (const s of w.signatures) expect(ecdsaVerify(suite, key.publicKey, fromHex(s.msg), fromHex(s.sig))).toBe(true)
    })
  })
})
