/** One rejection as the peer saw it: the chaincode's (or executor's) error and when, in scheduler ms. */
export interface Rejection { error: string, at: number }

/**
 * The last `capacity` transactions this peer rejected, so a client that did not wait can still
 * learn why later. Bounded: the oldest is forgotten first.
 */
export class RecentRejections {
  private readonly byTxid = new Map<string, Rejection>()

  constructor (private readonly capacity = 10_000) {}

  record (txid: string, error: string, at: number): void {
    // Re-inserted, so a txid rejected again counts as new.
    this.byTxid.delete(txid)
    this.byTxid.set(txid, { error, at })
    if (this.byTxid.size > this.capacity) this.byTxid.delete(this.byTxid.keys().next().value!)
  }

  get (txid: string): Rejection | undefined { return this.byTxid.get(txid) }
}
