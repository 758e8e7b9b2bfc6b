import type { PQ, PrePrepare } from './messages.ts'

/**
 * The P set (requests prepared here, newest view per sequence number) and Q set (requests
 * pre-prepared here, newest view per sequence number and digest) of Castro–Liskov's view change.
 */

export const qKey = (n: number, d: string): string => `${n}:${d}`

/** What the sets are computed from: the sets so far, the certificates and the predicates over them. */
export interface PQSource {
  readonly pset: ReadonlyMap<number, PQ>
  readonly qset: ReadonlyMap<string, PQ>
  readonly certStore: ReadonlyMap<string, { readonly view: number, readonly seqNo: number, readonly digest: string, readonly prePrepare?: PrePrepare }>
  prepared (digest: string, v: number, n: number): boolean
  prePrepared (digest: string, v: number, n: number): boolean
}

export function calcPSet (c: PQSource): Map<number, PQ> {
  const pset = new Map(c.pset)
  for (const cert of c.certStore.values()) {
    if (cert.prePrepare === undefined || !c.prepared(cert.digest, cert.view, cert.seqNo)) continue
    const p = pset.get(cert.seqNo)
    if (p !== undefined && p.view > cert.view) continue
    pset.set(cert.seqNo, { seqNo: cert.seqNo, digest: cert.digest, view: cert.view })
  }
  return pset
}

export function calcQSet (c: PQSource): Map<string, PQ> {
  const qset = new Map(c.qset)
  for (const cert of c.certStore.values()) {
    if (cert.prePrepare === undefined || !c.prePrepared(cert.digest, cert.view, cert.seqNo)) continue
    const key = qKey(cert.seqNo, cert.digest)
    const q = qset.get(key)
    if (q !== undefined && q.view > cert.view) continue
    qset.set(key, { seqNo: cert.seqNo, digest: cert.digest, view: cert.view })
  }
  return qset
}
