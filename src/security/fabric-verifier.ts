import type { EcPrivateKey } from '../crypto/fabric/ec-key.ts'
import { ecdsaSign, ecdsaVerify } from '../crypto/fabric/ecdsa.ts'
import type { CryptoSuite } from '../crypto/fabric/suite.ts'
import { parseCertificate, verifyCertificate, type FabricCertificate } from '../crypto/fabric/x509.ts'
import type { CertificateVerifier, CertifiedKey } from './member.ts'

/** The CA chains a member got at enrollment (eca.cert.chain, tca.cert.chain), DER. */
export interface CaRoots {
  eca: Uint8Array[]
  tca: Uint8Array[]
}

/**
 * Fabric's peer-side checks with the security level's suite: a certificate must be signed by
 * the TCA (else the ECA), in its validity period at `now` (ms since the epoch); critical
 * extensions count as handled, as TransactionPreValidation clears them before it verifies.
 */
export function fabricVerifier (suite: CryptoSuite, roots: CaRoots, now: () => number): CertificateVerifier {
  const tca = roots.tca.map(c => parseCertificate(c))
  const eca = roots.eca.map(c => parseCertificate(c))
  const check = (cert: FabricCertificate, pool: FabricCertificate[]): void => {
    verifyCertificate(cert, pool, { now: new Date(now()), handledCritical: cert.extensions.filter(e => e.critical).map(e => e.id) })
  }
  return {
    checkIssued (der) {
      const cert = parseCertificate(der)
      try {
        check(cert, tca)
      } catch {
        check(cert, eca)
      }
    },
    verify: (der, data, signature) => ecdsaVerify(suite, parseCertificate(der).publicKey, data, signature),
    hash: data => suite.hash(data)
  }
}

/** A certificate and its private key, signing as primitives.ECDSASign at the suite's level. */
export function certifiedKey (suite: CryptoSuite, cert: Uint8Array, key: EcPrivateKey): CertifiedKey {
  return { cert, sign: data => ecdsaSign(suite, key, data) }
}
