import { cryptoRandomBytes, type EcPrivateKey } from '../crypto/fabric/ec-key.ts'
import { aesKeyToPem, pemToAesKey, pemToPrivateKey, pemToPublicKey, privateKeyToPem } from '../crypto/fabric/keys.ts'
import { certDerToPem, pemToCertDer } from '../crypto/fabric/pem.ts'
import { NONCE_SIZE, type CryptoSuite } from '../crypto/fabric/suite.ts'
import { certifiedKey, type CaRoots } from './fabric-verifier.ts'
import type { CertifiedKey, ChainKeys, Member, MemberKeystore, MemberKind } from './member.ts'

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
  kdfKey: 'tca.kdf.key',
  // Fabric keeps them in its keystore's database (table TCerts); Weft in a file beside the keys.
  unusedTCerts: 'tcerts.unused'
} as const

/** A TCert with its derived private key, as kept until it is used. */
interface TCertKey { cert: Uint8Array, key: EcPrivateKey }

/** Each TCert (CERTIFICATE) followed by its key (ECDSA PRIVATE KEY), in PEM. */
function tcertsToText (tcerts: readonly TCertKey[]): string {
  return tcerts.map(t => certDerToPem(t.cert) + privateKeyToPem(t.key)).join('')
}

function textToTCerts (text: string): TCertKey[] {
  const blocks = [...text.matchAll(/-----BEGIN [^\n-]*-----[\s\S]*?-----END [^\n-]*-----\n?/g)].map(m => m[0])
  if (blocks.length % 2 !== 0) throw new Error(`${ALIAS.unusedTCerts}: ${blocks.length} PEM blocks, not certificate and key pairs`)
  const tcerts: TCertKey[] = []
  for (let i = 0; i < blocks.length; i += 2) tcerts.push({ cert: pemToCertDer(blocks[i]), key: pemToPrivateKey(blocks[i + 1]) })
  return tcerts
}

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
    return new EnrolledMember(enrollmentID, certifiedKey(this.suite, ecert, signKey), roots, chain, {
      fetch: async () => {
        const batch = await this.client.tcertBatch(enrollmentID, signKey, this.tcertBatchSize)
        // Kept as Fabric keeps it, though every batch brings its own.
        await this.raw.write(kind, enrollmentID, ALIAS.kdfKey, aesKeyToPem(batch.kdfKey))
        return batch.tcerts
      },
      saved: async () => {
        const text = await this.raw.read(kind, enrollmentID, ALIAS.unusedTCerts)
        return text === undefined ? [] : textToTCerts(text)
      },
      save: async unused => { await this.raw.write(kind, enrollmentID, ALIAS.unusedTCerts, tcertsToText(unused)) },
      certified: t => certifiedKey(this.suite, t.cert, t.key)
    })
  }
}

/** Where a member's TCerts come from: the TCA, and the keystore that keeps the unused ones across restarts. */
interface TCertSource {
  fetch (): Promise<TCertKey[]>
  saved (): Promise<TCertKey[]>
  save (unused: readonly TCertKey[]): Promise<void>
  certified (t: TCertKey): CertifiedKey
}

/**
 * An enrolled member: its enrollment key, the CA roots it got, and a pool of TCerts used once
 * each. The pool starts from the unused TCerts kept in the keystore, and what is left of it is
 * written back before a TCert is handed out, so a restart neither reuses one nor needs the TCA
 * while some are left (Fabric stores its pool when the client closes).
 */
export class EnrolledMember implements Member {
  private pool?: TCertKey[]
  /** One taker at a time: the pool and its file change together. */
  private taking: Promise<unknown> = Promise.resolve()

  constructor (
    readonly enrollmentID: string,
    readonly enrollment: CertifiedKey,
    readonly roots: CaRoots,
    readonly chain: ChainKeys | undefined,
    private readonly tcerts: TCertSource
  ) {}

  async nextTCert (): Promise<CertifiedKey> {
    const next = this.taking.then(async () => await this.take())
    this.taking = next.catch(() => {})
    return await next
  }

  private async take (): Promise<CertifiedKey> {
    this.pool ??= await this.tcerts.saved()
    if (this.pool.length === 0) {
      const batch = await this.tcerts.fetch()
      if (batch.length === 0) throw new Error('the TCA sent no transaction certificates')
      this.pool = batch
    }
    const [taken, ...rest] = this.pool
    await this.tcerts.save(rest)
    this.pool = rest
    return this.tcerts.certified(taken)
  }
}
