// A minimal issuer for unit tests of what a peer checks: an ECA and a TCA root (self-signed, as
// membersrvc makes them) and certificates from either. The real CA is src/ca; this one only signs.
import { generateEcKey, type EcPrivateKey } from '../../src/crypto/fabric/ec-key.ts'
import type { CryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { createCertificate, KeyUsage, OID_ECERT_SUBJECT_ROLE, parseCertificate } from '../../src/crypto/fabric/x509.ts'
import { utf8 } from '../../src/crypto/bytes.ts'
import { certifiedKey } from '../../src/security/fabric-verifier.ts'
import type { CertifiedKey } from '../../src/security/member.ts'

export const TEST_NOW = Date.parse('2026-06-01T00:00:00Z')
const notBefore = new Date('2026-01-01T00:00:00Z')
const notAfter = new Date('2027-01-01T00:00:00Z')

interface Issuer { key: EcPrivateKey, der: Uint8Array }

function root (suite: CryptoSuite, commonName: string): Issuer {
  const key = generateEcKey(suite.curve)
  const der = createCertificate({
    serialNumber: 1n, subject: { commonName, organization: ['Hyperledger'], country: ['US'] }, notBefore, notAfter,
    keyUsage: KeyUsage.DigitalSignature | KeyUsage.CertSign, isCA: true, subjectKeyId: Uint8Array.of(1, 2, 3, 4)
  }, undefined, key.publicKey, key)
  return { key, der }
}

export class TestCA {
  readonly eca: Issuer
  readonly tca: Issuer
  private serial = 10n

  constructor (readonly suite: CryptoSuite) {
    this.eca = root(suite, 'eca')
    this.tca = root(suite, 'tca')
  }

  get roots (): { eca: Uint8Array[], tca: Uint8Array[] } { return { eca: [this.eca.der], tca: [this.tca.der] } }

  /** An enrollment certificate with the ECA's role extension (1 client, 2 peer, 4 validator). */
  ecert (name: string, role = 1, from: Issuer = this.eca): CertifiedKey {
    return this.issue(name, from, [{ id: OID_ECERT_SUBJECT_ROLE, critical: true, value: utf8(String(role)) }])
  }

  /** A TCert with a fresh key (derivation is the CA's and the client's business, tested elsewhere). */
  tcert (from: Issuer = this.tca, validity?: { notBefore: Date, notAfter: Date }): CertifiedKey {
    return this.issue('Transaction Certificate', from, [], validity)
  }

  private issue (commonName: string, from: Issuer, extraExtensions: Array<{ id: string, critical: boolean, value: Uint8Array }>, validity = { notBefore, notAfter }): CertifiedKey {
    const key = generateEcKey(this.suite.curve)
    const der = createCertificate({
      serialNumber: this.serial++, subject: { commonName, organization: ['Hyperledger'], country: ['US'] }, ...validity,
      keyUsage: KeyUsage.DigitalSignature, isCA: false, subjectKeyId: Uint8Array.of(1, 2, 3, 4), extraExtensions
    }, parseCertificate(from.der), key.publicKey, from.key)
    return certifiedKey(this.suite, der, key)
  }
}
