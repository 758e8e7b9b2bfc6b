import { requestDigest, type Request } from './messages.ts'

/** Requests in arrival order, without duplicates (keyed by request digest). */
export class OrderedRequests {
  private readonly byKey = new Map<string, Request>()

  get size (): number { return this.byKey.size }
  has (key: string): boolean { return this.byKey.has(key) }

  /** False when it was already there. */
  add (req: Request, key = requestDigest(req)): boolean {
    if (this.byKey.has(key)) return false
    this.byKey.set(key, req)
    return true
  }

  /** True when it was there. */
  remove (req: Request, key = requestDigest(req)): boolean { return this.byKey.delete(key) }

  clear (): void { this.byKey.clear() }

  entries (): IterableIterator<[string, Request]> { return this.byKey.entries() }
}

/**
 * The batch layer's requests: outstanding = received and not yet executed; pending = outstanding
 * and already in a batch that is being ordered. The primary batches outstanding, non-pending ones.
 */
export class RequestStore {
  readonly outstanding = new OrderedRequests()
  readonly pending = new OrderedRequests()

  /** False when the request was already outstanding. */
  storeOutstanding (req: Request): boolean { return this.outstanding.add(req) }
  storePending (req: Request): void { this.pending.add(req) }
  storePendings (reqs: Iterable<Request>): void { for (const r of reqs) this.pending.add(r) }

  /** Forgets an executed request; says whether it was outstanding and pending. */
  remove (req: Request): { outstanding: boolean, pending: boolean } {
    const key = requestDigest(req)
    return { outstanding: this.outstanding.remove(req, key), pending: this.pending.remove(req, key) }
  }

  /** Pending requests that are no longer outstanding: none, unless a batch was forgotten half-way. */
  stalePending (): number {
    let n = 0
    for (const [key] of this.pending.entries()) if (!this.outstanding.has(key)) n++
    return n
  }

  hasNonPending (): boolean {
    // More outstanding than pending settles it; otherwise pending may hold requests that are no
    // longer outstanding (a view change re-marks a batch being executed), so look.
    if (this.outstanding.size > this.pending.size) return true
    for (const [key] of this.outstanding.entries()) if (!this.pending.has(key)) return true
    return false
  }

  /** Up to `n` outstanding requests not yet pending, oldest first. */
  nextNonPending (n: number): Request[] {
    const out: Request[] = []
    for (const [key, req] of this.outstanding.entries()) {
      if (out.length >= n) break
      if (!this.pending.has(key)) out.push(req)
    }
    return out
  }
}
