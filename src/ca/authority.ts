import type { EcPrivateKey } from '../crypto/fabric/ec-key.ts'
import { generateEcKey, type RandomBytes } from '../crypto/fabric/ec-key.ts'
import { marshalPrivateKey, parsePrivateKey } from '../crypto/fabric/keys.ts'
import type { CryptoSuite } from '../crypto/fabric/suite.ts'
import { KeyUsage, parseCertificate, type FabricCertificate } from '../crypto/fabric/x509.ts'
import { defaultValidity, issueCertificate, type Subject } from './certificates.ts'
import type { CaStore } from './store.ts'

/** One certificate authority's signing key and self-signed certificate (Fabric's CA: eca, tca, tlsca). */
export interface Authority {
  readonly name: string
  readonly key: EcPrivateKey
  /** Its certificate, DER. */
  readonly raw: Uint8Array
  readonly cert: FabricCertificate
  readonly subject: Subject
}

/**
 * The authority's key and certificate, made on first start (Fabric: <name>.priv and <name>.cert
 * in the CA directory) and read back after that.
 */
export async function openAuthority (store: CaStore, name: string, suite: CryptoSuite, subject: Subject, now: number, random: RandomBytes): Promise<Authority> {
  const key = parsePrivateKey(await store.ensureSecret(`${name}.priv`, () => marshalPrivateKey(generateEcKey(suite.curve, random))))
  const raw = await store.ensureSecret(`${name}.cert`, () => issueCertificate({ key, subject, cert: undefined }, {
    commonName: name,
    serial: 1n,
    publicKey: key.publicKey,
    usage: KeyUsage.DigitalSignature | KeyUsage.CertSign,
    ...defaultValidity(now),
    extensions: []
  }))
  return { name, key, raw, cert: parseCertificate(raw), subject }
}
