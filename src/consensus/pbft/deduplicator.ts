import type { Request } from './messages.ts'

/**
 * The newest executed request timestamp per submitting replica: a request no newer than the last
 * one executed from the same replica is stale and ignored.
 */
export class Deduplicator {
  private readonly executed = new Map<bigint, bigint>()

  /** Records an executed request; false when it is not newer than the last executed one. */
  execute (req: Request): boolean {
    const t = stamp(req)
    if (t <= (this.executed.get(req.replicaId) ?? -1n)) return false
    this.executed.set(req.replicaId, t)
    return true
  }

  /** True when the request is newer than anything executed from its replica. */
  isNew (req: Request): boolean {
    return stamp(req) > (this.executed.get(req.replicaId) ?? -1n)
  }
}

/** Nanoseconds since the epoch; a request without a timestamp counts as time zero. */
function stamp (req: Request): bigint {
  const ts = req.timestamp
  return ts === undefined ? 0n : ts.seconds * 1_000_000_000n + BigInt(ts.nanos)
}
