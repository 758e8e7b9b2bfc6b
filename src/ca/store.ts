import { concatBytes, fromBase64, fromUtf8, toBase64, utf8 } from '../crypto/bytes.ts'
import { Column, WriteBatch } from '../storage/columns.ts'
import type { Bytes, KVStore } from '../storage/kv.ts'

/** Fabric keeps one database per authority; here they share a store and a certificate's key starts with its authority. */
export type AuthorityName = 'eca' | 'tca' | 'tlsca' | 'aca'
const authorityByte: Record<AuthorityName, number> = { eca: 1, tca: 2, tlsca: 3, aca: 4 }

/** Enrollment state of a user (Fabric's Users.state). */
export const UserState = {
  /** Registered: the token is the one-time enrollment secret. */
  registered: 0,
  /** Phase 1 done: the token is the challenge sent encrypted to `key`. */
  challenged: 1,
  /** Enrolled: the ECert pair is issued; the token is spent. */
  enrolled: 2,
  /** Its ECert was revoked: no new certificates. */
  revoked: 3
} as const

/** A row of Fabric's Users table. */
export interface UserRecord {
  id: string
  /** `id\affiliation` for members that need an affiliation; empty for validators and auditors. */
  enrollmentId: string
  role: number
  /** JSON `{"registrar":{"roles":[…],"delegateRoles":[…]}}`, or empty when the user registers nobody. */
  metadata: string
  token: Bytes
  state: number
  /** The encryption public key (PKIX DER) sent in phase 1. */
  key?: Bytes
}

/** A row of Fabric's Certificates table. */
export interface CertificateRecord {
  authority: AuthorityName
  id: string
  /** What the caller gave as the row's timestamp (Fabric: nanoseconds for ECerts, seconds elsewhere). */
  timestamp: number
  /** x509 KeyUsage bits. */
  usage: number
  cert: Bytes
  /** The security level's hash of `cert`. */
  hash: Bytes
  kdfKey?: Bytes
  revoked?: boolean
  /** Its place among all rows (set when added). */
  seq?: number
}

/** A row of Fabric's TCertificateSets table. */
export interface TCertSetRecord {
  enrollmentId: string
  timestamp: number
  nonce: Bytes
  kdfKey: Bytes
}

/** A row of Fabric's ACA Attributes table. */
export interface AttributeRecord {
  id: string
  affiliation: string
  name: string
  value: Bytes
  /** Milliseconds since the epoch; 0 for none (valid since ever, or for ever). */
  validFrom: number
  validTo: number
}

export interface AffiliationRecord {
  name: string
  /** The parent group's name; empty for a root. */
  parent: string
}

const bytesFields = new Set(['token', 'key', 'cert', 'hash', 'kdfKey', 'nonce', 'value'])

function encode (record: object): Bytes {
  return utf8(JSON.stringify(record, (k, v: unknown) => bytesFields.has(k) && v instanceof Uint8Array ? toBase64(v) : v))
}

function decode<T> (raw: Bytes): T {
  return JSON.parse(fromUtf8(raw), (k, v: unknown) => bytesFields.has(k) && typeof v === 'string' ? fromBase64(v) : v) as T
}

async function readOne<T> (column: Column, key: Bytes): Promise<T | undefined> {
  const raw = await column.get(key)
  return raw === undefined ? undefined : decode<T>(raw)
}

async function readAll<T> (entries: AsyncIterable<[Bytes, Bytes]>): Promise<T[]> {
  const out: T[] = []
  for await (const [, v] of entries) out.push(decode<T>(v))
  return out
}

const seqKey = utf8('certificate-seq')

function seqBytes (n: number): Bytes {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(n))
  return out
}

/** `id` then a 0 byte: ids never hold one, so one id's rows never run into another's. */
const idPrefix = (id: string): Bytes => concatBytes(utf8(id), Uint8Array.of(0))

const attributeKey = (id: string, affiliation: string, name: string): Bytes => concatBytes(idPrefix(id), idPrefix(affiliation), utf8(name))

function certificateKey (record: CertificateRecord): Bytes {
  if (record.seq === undefined) throw new Error('certificate row without a sequence number')
  return concatBytes(Uint8Array.of(authorityByte[record.authority]), idPrefix(record.id), seqBytes(record.seq))
}

function prefixEnd (prefix: Bytes): Bytes {
  const end = prefix.slice()
  end[end.length - 1]++
  return end
}

/**
 * Membership services' tables (users, certificates by authority, affiliation groups, TCert
 * sets, the authorities' keys) as columns of one KVStore. Mutations run one at a time, as
 * Fabric's global mutex has them, and each lands in one atomic write.
 */
export class CaStore {
  private readonly users: Column
  private readonly certificates: Column
  private readonly hashes: Column
  private readonly affiliations: Column
  private readonly tcertSets: Column
  private readonly secrets: Column
  private readonly attributes: Column
  private nextSeq = 0
  private queue: Promise<unknown> = Promise.resolve()

  private constructor (readonly kv: KVStore) {
    this.users = new Column(kv, 'caUsers')
    this.certificates = new Column(kv, 'caCertificates')
    this.hashes = new Column(kv, 'caCertificateHashes')
    this.affiliations = new Column(kv, 'caAffiliations')
    this.tcertSets = new Column(kv, 'caTCertSets')
    this.secrets = new Column(kv, 'caSecrets')
    this.attributes = new Column(kv, 'caAttributes')
  }

  static async open (kv: KVStore): Promise<CaStore> {
    const store = new CaStore(kv)
    const seq = await store.secrets.get(seqKey)
    if (seq !== undefined) store.nextSeq = Number(new DataView(seq.buffer, seq.byteOffset, 8).getBigUint64(0))
    return store
  }

  /** Runs `fn` after every mutation queued before it; `fn` reads, then returns the batch to write (or throws: nothing written). */
  async mutate<T> (fn: (batch: CaBatch) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const batch = new CaBatch(this)
      const result = await fn(batch)
      await this.kv.write(batch.ops.ops)
      this.nextSeq = batch.seq
      return result
    }
    const next = this.queue.then(run, run)
    this.queue = next.catch(() => {})
    return await next
  }

  async user (id: string): Promise<UserRecord | undefined> {
    return await readOne<UserRecord>(this.users, utf8(id))
  }

  async allUsers (): Promise<UserRecord[]> {
    return await readAll<UserRecord>(this.users.entries())
  }

  async affiliation (name: string): Promise<AffiliationRecord | undefined> {
    return await readOne<AffiliationRecord>(this.affiliations, utf8(name))
  }

  async allAffiliations (): Promise<AffiliationRecord[]> {
    return await readAll<AffiliationRecord>(this.affiliations.entries())
  }

  /** An authority's certificates for `id`, oldest first (Fabric reads an ECert pair as sign, then enc). */
  async certificatesOf (authority: AuthorityName, id: string): Promise<CertificateRecord[]> {
    const prefix = concatBytes(Uint8Array.of(authorityByte[authority]), idPrefix(id))
    return await readAll<CertificateRecord>(this.certificates.entries({ gte: prefix, lt: prefixEnd(prefix) }))
  }

  async certificateByHash (authority: AuthorityName, hash: Bytes): Promise<CertificateRecord | undefined> {
    const key = await this.hashes.get(concatBytes(Uint8Array.of(authorityByte[authority]), hash))
    if (key === undefined) return undefined
    return await readOne<CertificateRecord>(this.certificates, key)
  }

  async tcertSetsOf (enrollmentId: string): Promise<TCertSetRecord[]> {
    const prefix = idPrefix(enrollmentId)
    return await readAll<TCertSetRecord>(this.tcertSets.entries({ gte: prefix, lt: prefixEnd(prefix) }))
  }

  async attribute (id: string, affiliation: string, name: string): Promise<AttributeRecord | undefined> {
    return await readOne<AttributeRecord>(this.attributes, attributeKey(id, affiliation, name))
  }

  async secret (name: string): Promise<Bytes | undefined> {
    return await this.secrets.get(utf8(`secret/${name}`))
  }

  /** Writes a secret unless one is there already, and returns the one kept (so a restart keeps the authorities' keys). */
  async ensureSecret (name: string, make: () => Bytes | Promise<Bytes>): Promise<Bytes> {
    return await this.mutate(async batch => {
      const have = await this.secret(name)
      if (have !== undefined) return have
      const value = await make()
      batch.ops.put(this.secrets, utf8(`secret/${name}`), value)
      return value
    })
  }

  /** @internal columns for CaBatch */
  get columns (): { users: Column, certificates: Column, hashes: Column, affiliations: Column, tcertSets: Column, secrets: Column, attributes: Column } {
    return { users: this.users, certificates: this.certificates, hashes: this.hashes, affiliations: this.affiliations, tcertSets: this.tcertSets, secrets: this.secrets, attributes: this.attributes }
  }

  /** @internal the sequence number the next certificate row takes */
  get seq (): number { return this.nextSeq }
}

/** The writes of one mutation. */
export class CaBatch {
  readonly ops = new WriteBatch()
  seq: number

  constructor (private readonly store: CaStore) {
    this.seq = store.seq
  }

  putUser (user: UserRecord): this {
    this.ops.put(this.store.columns.users, utf8(user.id), encode(user))
    return this
  }

  deleteUser (id: string): this {
    this.ops.del(this.store.columns.users, utf8(id))
    return this
  }

  putAffiliation (group: AffiliationRecord): this {
    this.ops.put(this.store.columns.affiliations, utf8(group.name), encode(group))
    return this
  }

  addCertificate (record: CertificateRecord): this {
    const row = { ...record, seq: this.seq++ }
    const key = certificateKey(row)
    const { certificates, hashes, secrets } = this.store.columns
    this.ops.put(certificates, key, encode(row))
    this.ops.put(hashes, concatBytes(Uint8Array.of(authorityByte[row.authority]), row.hash), key)
    this.ops.put(secrets, seqKey, seqBytes(this.seq))
    return this
  }

  /** Rewrites a row read from the store (e.g. to mark it revoked). */
  reviseCertificate (record: CertificateRecord): this {
    this.ops.put(this.store.columns.certificates, certificateKey(record), encode(record))
    return this
  }

  putAttribute (attr: AttributeRecord): this {
    this.ops.put(this.store.columns.attributes, attributeKey(attr.id, attr.affiliation, attr.name), encode(attr))
    return this
  }

  addTCertSet (set: TCertSetRecord): this {
    this.ops.put(this.store.columns.tcertSets, concatBytes(idPrefix(set.enrollmentId), seqBytes(this.seq++)), encode(set))
    this.ops.put(this.store.columns.secrets, seqKey, seqBytes(this.seq))
    return this
  }
}
