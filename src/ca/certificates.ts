import type { EcPrivateKey, EcPublicKey } from '../crypto/fabric/ec-key.ts'
import { createCertificate, type CertExtension, type FabricCertificate } from '../crypto/fabric/x509.ts'

/** pki.ca.subject: what every certificate of these authorities names besides its common name. */
export interface Subject {
  organization: string
  country: string
}

/** Fabric's CertificateSpec: what differs between the certificates an authority issues. */
export interface CertificateSpec {
  commonName: string
  serial: bigint
  publicKey: EcPublicKey
  /** Go's x509.KeyUsage bits. */
  usage: number
  /** Milliseconds since the epoch. */
  notBefore: number
  notAfter: number
  extensions: CertExtension[]
}

export interface Issuer {
  key: EcPrivateKey
  subject: Subject
  /** The issuer's own certificate; undefined while it signs itself. */
  cert: FabricCertificate | undefined
}

/** Fabric's CAs give every certificate this subject key id. */
const fabricKeyId = Uint8Array.of(1, 2, 3, 4)

/** Fabric's default period: from a minute ago, for 90 days. */
export function defaultValidity (now: number): { notBefore: number, notAfter: number } {
  const notBefore = now - 60_000
  return { notBefore, notAfter: notBefore + 90 * 24 * 3_600_000 }
}

/** A certificate from Fabric's template (CA.newCertificateFromSpec): a CA's own when it has none yet. */
export function issueCertificate (issuer: Issuer, spec: CertificateSpec): Uint8Array {
  return createCertificate({
    serialNumber: spec.serial,
    subject: { commonName: spec.commonName, organization: [issuer.subject.organization], country: [issuer.subject.country] },
    notBefore: new Date(spec.notBefore),
    notAfter: new Date(spec.notAfter),
    keyUsage: spec.usage,
    isCA: issuer.cert === undefined,
    subjectKeyId: fabricKeyId,
    extraExtensions: spec.extensions
  }, issuer.cert, spec.publicKey, issuer.key)
}
