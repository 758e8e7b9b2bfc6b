import { cryptoRandomBytes, type EcPrivateKey } from '../crypto/fabric/ec-key.ts'
import { aesKeyToPem, pemToAesKey, pemToPrivateKey, pemToPublicKey, privateKeyToPem } from '../crypto/fabric/keys.ts'
import { certDerToPem, pemToCertDer } from '../crypto/fabric/pem.ts'
import { NONCE_SIZE, type CryptoSuite } from '../crypto/fabric/suite.ts'
import { certifiedKey, type CaRoots } from './fabric-verifier.ts'
import type { CertifiedKey, ChainKeys, Member, MemberKeystore, MemberKind } from './member.ts'
import { TCertPool } from './tcert-pool.ts'

/** What enrollment with the ECA gives a member (fabric-crypto's enrollment client does the protocol). */
export interface Enrollment {
  signKey: EcPrivateKey
  /** The enrollment certificate, DER. */
  ecert: Uint8Array
  /** The ECA's and the TCA's certificates, DER. */
  ecaChain: Uint8Array
  tcaChain: Uint8Array
  /** The ECA's chain key (Pkchain), PEM, kept as chain.key. */
  chainKey?: string
}

/** The membership services calls a member makes: enrollment and certificates of peers (ECA), TCert batches (TCA). */
export interface MembershipClient {
  /** Throws with the CA's refusal (wrong secret, unknown user) or why it could not be reached. */
  enroll (enrollID: string, enrollSecret: string): Promise<Enrollment>
  /** A batch of TCerts (DER) for the member with their derived private keys, and the key they were derived with. */
  tcertBatch (enrollID: string, signKey: EcPrivateKey, count: number): Promise<{ kdfKey: Uint8Array, tcerts: Array<{ cert: Uint8Array, key: EcPrivateKey }> }>
  /** ECA ReadCertificateByHash: the enrollment certificate (DER) whose hash is `pkiID`; throws unless it is a peer's or a validator's. */
  enrollmentCertificate (pkiID: Uint8Array): Promise<Uint8Array>
}

/** A member's files as Fabric names them under crypto/<kind>/<name>/ks/raw, kept by the edge (files, IndexedDB). */
export interface RawStore {
  read (kind: MemberKind, name: string, alias: string): Promise<string | undefined>
  write (kind: MemberKind, name: string, alias: string, text: string): Promise<void>
  has (kind: MemberKind, name: string): Promise<boolean>
  remove (kind: MemberKind, name: string): Promise<void>
  /** What Fabric says when the file is not there (Go's "open <path>: no such file or directory"). */
  missing (kind: MemberKind, name: string, alias: string): string
}

const ALIAS = {
  key: 'enrollment.key',
  cert: 'enrollment.cert',
  id: 'enrollment.id',
  eca: 'eca.cert.chain',
  tca: 'tca.cert.chain',
  chainKey: 'chain.key',
  queryKey: 'query.key',
  kdfKey: 'tca.kdf.key'
} as const

/** Fabric's keystore: enrollment keys and certificates in its files, TCerts fetched in batches of security.tcert.batch.size. */
export class Keystore implements MemberKeystore {
  constructor (
    private readonly suite: CryptoSuite,
    private readonly raw: RawStore,
    private readonly client: MembershipClient,
    private readonly tcertBatchSize: number
  ) {}

  async enroll (kind: MemberKind, enrollID: string, enrollSecret: string): Promise<EnrolledMember> {
    const e = await this.client.enroll(enrollID, enrollSecret)
    const w = async (alias: string, text: string): Promise<void> => { await this.raw.write(kind, enrollID, alias, text) }
    await w(ALIAS.eca, certDerToPem(e.ecaChain))
    await w(ALIAS.tca, certDerToPem(e.tcaChain))
    await w(ALIAS.id, enrollID)
    await w(ALIAS.key, privateKeyToPem(e.signKey))
    await w(ALIAS.cert, certDerToPem(e.ecert))
    if (e.chainKey !== undefined) await w(ALIAS.chainKey, e.chainKey)
    return this.member(kind, enrollID, e.signKey, e.ecert, { eca: [e.ecaChain], tca: [e.tcaChain] }, await this.chainKeys(kind, enrollID))
  }

  async open (kind: MemberKind, name: string): Promise<EnrolledMember | undefined> {
    const r = (alias: string): Promise<string | undefined> => this.raw.read(kind, name, alias)
    const [eca, tca, id, key, cert] = await Promise.all([r(ALIAS.eca), r(ALIAS.tca), r(ALIAS.id), r(ALIAS.key), r(ALIAS.cert)])
    if (eca === undefined || tca === undefined || id === undefined || key === undefined || cert === undefined) return undefined
    return this.member(kind, id, pemToPrivateKey(key), pemToCertDer(cert), { eca: [pemToCertDer(eca)], tca: [pemToCertDer(tca)] }, await this.chainKeys(kind, id))
  }

  /**
   * The kept chain key: private for a validator, public for others (as the ECA sent it). A
   * client's query state key is made the first time it is needed, as Fabric makes it at
   * registration, and kept as query.key.
   */
  private async chainKeys (kind: MemberKind, name: string): Promise<ChainKeys | undefined> {
    const pem = await this.raw.read(kind, name, ALIAS.chainKey)
    if (pem === undefined) return undefined
    if (kind === 'validator') {
      const privateKey = pemToPrivateKey(pem)
      return { publicKey: privateKey.publicKey, privateKey }
    }
    if (kind !== 'client') return { publicKey: pemToPublicKey(pem) }
    let query = await this.raw.read(kind, name, ALIAS.queryKey)
    if (query === undefined) {
      query = aesKeyToPem(cryptoRandomBytes(NONCE_SIZE))
      await this.raw.write(kind, name, ALIAS.queryKey, query)
    }
    return { publicKey: pemToPublicKey(pem), queryStateKey: pemToAesKey(query) }
  }

  notEnrolled (kind: MemberKind, name: string): string { return this.raw.missing(kind, name, ALIAS.eca) }

  has (kind: MemberKind, name: string): Promise<boolean> { return this.raw.has(kind, name) }

  remove (kind: MemberKind, name: string): Promise<void> { return this.raw.remove(kind, name) }

  private member (kind: MemberKind, enrollmentID: string, signKey: EcPrivateKey, ecert: Uint8Array, roots: CaRoots, chain: ChainKeys | undefined): EnrolledMember {
    const files = { read: (alias: string) => this.raw.read(kind, enrollmentID, alias), write: (alias: string, text: string) => this.raw.write(kind, enrollmentID, alias, text) }
    // Fabric keeps unused TCerts in its keystore's database (table TCerts); Weft in files beside the keys.
    const tcerts = new TCertPool(files, async () => {
      const batch = await this.client.tcertBatch(enrollmentID, signKey, this.tcertBatchSize)
      // Kept as Fabric keeps it, though every batch brings its own.
      await files.write(ALIAS.kdfKey, aesKeyToPem(batch.kdfKey))
      return batch.tcerts
    })
    return new EnrolledMember(enrollmentID, certifiedKey(this.suite, ecert, signKey), roots, chain, tcerts, this.suite)
  }
}

/**
 * An enrolled member: its enrollment key, the CA roots it got, and a pool of TCerts used once
 * each, kept in the keystore so a restart neither reuses one nor needs the TCA while some are left.
 */
export class EnrolledMember implements Member {
  constructor (
    readonly enrollmentID: string,
    readonly enrollment: CertifiedKey,
    readonly roots: CaRoots,
    readonly chain: ChainKeys | undefined,
    private readonly tcerts: TCertPool,
    private readonly suite: CryptoSuite
  ) {}

  async nextTCert (): Promise<CertifiedKey> {
    const t = await this.tcerts.take()
    return certifiedKey(this.suite, t.cert, t.key)
  }
}
