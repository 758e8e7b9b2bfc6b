import type { Commit, PrePrepare, Prepare } from './messages.ts'

/** One quorum certificate slot: a (view, sequence number) and what was said about it. */
export interface Cert {
  readonly view: number
  readonly seqNo: number
  readonly digest: string
  readonly prePrepare?: PrePrepare
  readonly sentPrepare: boolean
  readonly prepares: readonly Prepare[]
  readonly sentCommit: boolean
  readonly commits: readonly Commit[]
}

/** A certificate as the store changes it. */
type Slot = { -readonly [K in keyof Cert]: Cert[K] } & { prepares: Prepare[], commits: Commit[] }

const certKey = (v: number, n: number): string => `${v}:${n}`

/** A replica's certificates by (view, sequence number): Fabric's certStore. */
export class CertStore {
  readonly #certs = new Map<string, Slot>()

  get all (): ReadonlyMap<string, Cert> { return this.#certs }

  /** The certificate for (v, n), if anything was said about it. */
  at (v: number, n: number): Cert | undefined { return this.#certs.get(certKey(v, n)) }

  /** The certificate slot for (v, n), opened empty if new (Fabric's getCert). */
  get (v: number, n: number): Cert { return this.slot(v, n) }

  private slot (v: number, n: number): Slot {
    const key = certKey(v, n)
    let cert = this.#certs.get(key)
    if (cert === undefined) {
      cert = { view: v, seqNo: n, digest: '', sentPrepare: false, prepares: [], sentCommit: false, commits: [] }
      this.#certs.set(key, cert)
    }
    return cert
  }

  recordPrePrepare (pp: PrePrepare): void {
    const cert = this.slot(pp.view, pp.seqNo)
    cert.prePrepare = pp
    cert.digest = pp.digest
  }

  markPrepareSent (v: number, n: number): void { this.slot(v, n).sentPrepare = true }
  markCommitSent (v: number, n: number): void { this.slot(v, n).sentCommit = true }

  /** Returns the certificate, or undefined (and changes nothing) when that replica's vote is already there. */
  recordVote (m: Prepare | Commit, list: 'prepares' | 'commits'): Cert | undefined {
    const cert = this.slot(m.view, m.seqNo)
    const votes: Array<Prepare | Commit> = cert[list]
    if (votes.some(p => p.replicaId === m.replicaId)) return undefined
    votes.push(m)
    return cert
  }

  /** The batch digests the certificates use. */
  digests (): Set<string> {
    const inUse = new Set<string>()
    for (const cert of this.#certs.values()) inUse.add(cert.digest)
    return inUse
  }

  /** Forgets the certificates at or below sequence number `h`; returns their digests. */
  dropUpTo (h: number): Set<string> {
    const dropped = new Set<string>()
    for (const [key, cert] of this.#certs) {
      if (cert.seqNo > h) continue
      dropped.add(cert.digest)
      this.#certs.delete(key)
    }
    return dropped
  }

  /** Forgets the certificates of views below `view`, except those of view `keep`. */
  dropViewsBelow (view: number, keep: number | undefined): void {
    for (const [key, cert] of this.#certs) if (cert.view < view && cert.view !== keep) this.#certs.delete(key)
  }
}
