// What a security-enabled peer needs from Fabric's crypto and its membership services, kept
// behind interfaces: the edge supplies the keystore (files, IndexedDB) and the CA client, and
// the primitives (ECDSA, x509, hashes by security level) come from src/crypto/fabric.
import type { EcPrivateKey, EcPublicKey } from '../crypto/fabric/ec-key.ts'

/** A certificate (DER) and the private key that signs for it (ECDSA over the security level's hash, DER-encoded r, s). */
export interface CertifiedKey {
  readonly cert: Uint8Array
  sign (data: Uint8Array): Uint8Array
}

/**
 * The chain key the ECA hands out with the enrollment certificates (confidentiality 1.2): a
 * validator gets its private key, everyone else the public one; a client adds its own query
 * state key (query.key), from which the key of each confidential query's result is derived.
 */
export interface ChainKeys {
  readonly publicKey: EcPublicKey
  readonly privateKey?: EcPrivateKey
  readonly queryStateKey?: Uint8Array
}

/** One enrolled member, as Fabric's crypto node holds it: enrollment certificate and key, and TCerts. */
export interface Member {
  readonly enrollmentID: string
  readonly enrollment: CertifiedKey
  /** Undefined when the CA handed out no chain key. */
  readonly chain?: ChainKeys
  /** A transaction certificate with its derived key, one per transaction (fetched from the TCA in batches). */
  nextTCert (): Promise<CertifiedKey>
}

/** Fabric's node types: where the keys live under peer.fileSystemPath/crypto/. */
export type MemberKind = 'client' | 'peer' | 'validator'

/** Members' keys kept by the edge (peer.fileSystemPath/crypto/<kind>/<name>/ks/raw), obtained from the CA. */
export interface MemberKeystore {
  /** Enrolls with the ECA and stores the keys and the CA chains; throws with the CA's refusal. */
  enroll (kind: MemberKind, enrollID: string, enrollSecret: string): Promise<Member>
  /** The stored member, or undefined when it never enrolled here. */
  open (kind: MemberKind, name: string): Promise<Member | undefined>
  /** Fabric's error for a member that is not enrolled here (what InitClient says). */
  notEnrolled (kind: MemberKind, name: string): string
  /** Whether anything of the member is stored. */
  has (kind: MemberKind, name: string): Promise<boolean>
  remove (kind: MemberKind, name: string): Promise<void>
}

/** Checks what others present against the CA roots this peer trusts (the chains it got at enrollment). */
export interface CertificateVerifier {
  /** Throws with the reason unless `cert` was issued by the TCA or the ECA. */
  checkIssued (cert: Uint8Array): void
  /** Whether `signature` over `data` verifies against `cert`'s public key; throws for a certificate that cannot be read. */
  verify (cert: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean
  /** security.hashAlgorithm at security.level (transaction binding, pkiID). */
  hash (data: Uint8Array): Uint8Array
}

/** Fabric's crypto.Peer for this node: its own enrollment, the users it signs for, and how it checks others. */
export interface NodeSecurity {
  /** This peer, enrolled as security.enrollID. */
  readonly self: Member
  readonly verifier: CertificateVerifier
  readonly keystore: MemberKeystore
  /** The ECA's ReadCertificateByHash: a peer's or validator's enrollment certificate by its pkiID; throws for anyone else. */
  enrollmentCertificate (pkiID: Uint8Array): Promise<Uint8Array>
}
