import { qKey, type PbftCore } from './core.ts'
import type { PQ } from './messages.ts'

/**
 * The P set (requests prepared here, newest view per sequence number) and Q set (requests
 * pre-prepared here, newest view per sequence number and digest) of Castro–Liskov's view change.
 */
export function calcPSet (c: PbftCore): Map<number, PQ> {
  const pset = new Map(c.pset)
  for (const cert of c.certStore.values()) {
    if (cert.prePrepare === undefined || !c.prepared(cert.digest, cert.view, cert.seqNo)) continue
    const p = pset.get(cert.seqNo)
    if (p !== undefined && p.view > cert.view) continue
    pset.set(cert.seqNo, { seqNo: cert.seqNo, digest: cert.digest, view: cert.view })
  }
  return pset
}

export function calcQSet (c: PbftCore): Map<string, PQ> {
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

/** What a restarted replica needs to keep its word in the next view change. */
export function persistPSet (c: PbftCore): void { c.store.storePSet(() => calcPSet(c).values()) }
export function persistQSet (c: PbftCore): void { c.store.storeQSet(() => calcQSet(c).values()) }
