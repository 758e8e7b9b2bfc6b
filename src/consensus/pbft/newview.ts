import type { CheckpointRef, ViewChange } from './messages.ts'

/**
 * The two computations of a new view (Castro–Liskov TOCS 2002, 4.4), pure so that the new primary
 * and every backup derive the same answer from the same set S of view-change messages.
 */
export interface QuorumParams {
  f: number
  /** intersectionQuorum: 2f+1 when N = 3f+1. */
  quorum: number
  /** Log size L. */
  L: number
}

/**
 * The starting checkpoint: the highest one that f+1 messages of S vouch for (S') and that at
 * least a quorum of S has its low watermark at or below. Also returns who vouched for it.
 */
export function selectInitialCheckpoint (vset: readonly ViewChange[], p: QuorumParams): { checkpoint: CheckpointRef, replicas: number[] } | undefined {
  const vouchers = new Map<string, { ref: CheckpointRef, replicas: Set<number> }>()
  for (const vc of vset) {
    for (const c of vc.cset) {
      const key = `${c.seqNo}:${c.id}`
      let entry = vouchers.get(key)
      if (entry === undefined) vouchers.set(key, entry = { ref: c, replicas: new Set() })
      // A replica listing a checkpoint twice still vouches once.
      entry.replicas.add(vc.replicaId)
    }
  }
  let best: { checkpoint: CheckpointRef, replicas: number[] } | undefined
  for (const { ref, replicas } of vouchers.values()) {
    if (replicas.size <= p.f) continue
    const below = vset.filter(vc => vc.h <= ref.seqNo).length
    if (below < p.quorum) continue
    if (best === undefined || best.checkpoint.seqNo <= ref.seqNo) best = { checkpoint: ref, replicas: [...replicas] }
  }
  return best
}

/**
 * The X set: for each n in (h, h+L], the request that may have committed in an earlier view
 * (conditions A1 and A2), else the null request when a quorum prepared nothing there. Null
 * requests above the last chosen request are dropped. Undefined when some n cannot be decided.
 */
export function assignSequenceNumbers (vset: readonly ViewChange[], h: number, p: QuorumParams): Map<number, string> | undefined {
  const xset = new Map<number, string>()
  let maxN = h + 1
  nLoop:
  for (let n = h + 1; n <= h + p.L; n++) {
    for (const m of vset) {
      for (const em of m.pset) {
        if (em.seqNo !== n) continue
        // A1: a quorum of S has its low watermark below n and prepared nothing at n that beats <n, d, v>.
        let a1 = 0
        for (const mp of vset) {
          if (mp.h >= n) continue
          const beaten = mp.pset.some(e => e.seqNo === n && !(e.view < em.view || (e.view === em.view && e.digest === em.digest)))
          if (!beaten) a1++
        }
        if (a1 < p.quorum) continue
        // A2: f+1 messages of S pre-prepared d at n in view v or later.
        const a2 = vset.filter(mp => mp.qset.some(e => e.seqNo === n && e.view >= em.view && e.digest === em.digest)).length
        if (a2 < p.f + 1) continue
        xset.set(n, em.digest)
        maxN = n
        continue nLoop
      }
    }
    const empty = vset.filter(m => !m.pset.some(e => e.seqNo === n)).length
    if (empty >= p.quorum) {
      xset.set(n, '')
      continue
    }
    return undefined
  }
  for (const [n, d] of xset) if (n > maxN && d === '') xset.delete(n)
  return xset
}

export function sameXset (a: ReadonlyMap<number, string>, b: ReadonlyMap<number, string>): boolean {
  if (a.size !== b.size) return false
  for (const [n, d] of a) if (b.get(n) !== d) return false
  return true
}
