import { create, fromBinary } from '@bufbuild/protobuf'
import { TimestampSchema, type Timestamp } from '@bufbuild/protobuf/wkt'
import { TransactionSchema } from '../../protos/fabric_pb.ts'
import { requestSchema } from '../../protos/pbft_pb.ts'
import type { Request } from './messages.ts'

export interface OwnRequestsComponents {
  id: number
  /** False: requests are only made (Fabric's rules), never kept for retransmission. */
  track: boolean
  now: () => number
  /** How long a request waits, from its first sending, before it goes out again (the request timeout); doubled each time after. */
  timeoutMs: number
  /** Sends a request to every replica and keeps it outstanding here. */
  send: (req: Request) => void
  /** False once a newer request of ours has executed: replicas then ignore this one as stale. */
  isNew: (req: Request) => boolean
  /** Arms (or re-arms) the retransmission timer to fire after `delayMs`. */
  arm: (delayMs: number) => void
  disarm: () => void
}

/**
 * Weft: the requests this replica made from its clients' transactions, until it sees them
 * executed, and what a PBFT client does with them: send them again when they take longer than a
 * request timeout. In Fabric a request whose one broadcast was lost (a partition, a crashed
 * primary) waits for a view change that unrelated commits keep postponing, or is dropped by
 * state transfer; here it is retransmitted. Re-sent requests may get ordered twice; the
 * executor runs a txid once. Each retransmission of a request waits twice as long as the one
 * before (up to 4 request timeouts), as a PBFT client backs off: under overload every request
 * is late, and re-sending them all every timeout only added to the load.
 */
export class OwnRequests {
  private readonly byTxid = new Map<string, Request>()
  /** When each request is due to go out again, and how often it went out again already. */
  private readonly due = new Map<string, { at: number, resent: number }>()
  /** Txids found stale at the last retransmission: if still unexecuted at the next, they go out afresh. */
  private stale = new Set<string>()
  private lastStamp = 0n

  constructor (private readonly c: OwnRequestsComponents) {}

  get size (): number { return this.byTxid.size }

  txids (): string[] { return [...this.byTxid.keys()] }

  /** Wraps a client transaction as a request of ours; timestamps strictly increase, so deduplication never drops one. */
  make (payload: Uint8Array): Request {
    const req = create(requestSchema, { timestamp: this.nextTimestamp(), payload, replicaId: BigInt(this.c.id) })
    const txid = this.c.track ? txidOf(payload) : undefined
    if (txid !== undefined) {
      if (this.byTxid.size === 0) this.c.arm(this.c.timeoutMs)
      this.byTxid.set(txid, req)
      this.due.set(txid, { at: this.c.now() + this.c.timeoutMs, resent: 0 })
    }
    return req
  }

  /** Forgets an executed request; returns it if it was ours. */
  executed (txid: string): Request | undefined {
    this.stale.delete(txid)
    const req = this.byTxid.get(txid)
    this.due.delete(txid)
    if (this.byTxid.delete(txid) && this.byTxid.size === 0) this.c.disarm()
    return req
  }

  /**
   * Sends again every unexecuted request that is due (all of them with `all`, after a state
   * transfer). One a newer request of ours overtook
   * goes out as a new request if it is still unexecuted a round later (the old one may yet run
   * from a pending batch; waiting a round spares most duplicates). A request made just before the
   * timer fires waits for its own timeout: a Fabric primary batches every copy it receives, so an
   * early second copy would be ordered, and run, twice.
   */
  retransmit (all = false): void {
    const now = this.c.now()
    const stale = new Set<string>()
    let nextDue = Infinity
    for (const [txid, req] of this.byTxid) {
      const due = this.due.get(txid) ?? { at: now, resent: 0 }
      if (!all && due.at > now) {
        if (this.stale.has(txid)) stale.add(txid)
        nextDue = Math.min(nextDue, due.at)
        continue
      }
      let r = req
      if (!this.c.isNew(r) && this.stale.has(txid)) {
        r = create(requestSchema, { ...req, timestamp: this.nextTimestamp() })
        this.byTxid.set(txid, r)
      } else if (!this.c.isNew(r)) {
        stale.add(txid)
      }
      const resent = due.resent + 1
      const at = now + this.c.timeoutMs * 2 ** Math.min(resent, 2)
      this.due.set(txid, { at, resent })
      nextDue = Math.min(nextDue, at)
      this.c.send(r)
    }
    this.stale = stale
    // Requests due within an eighth of the timeout of each other go out on one firing: one scan each.
    if (this.byTxid.size > 0) this.c.arm(Math.max(nextDue - now, Math.ceil(this.c.timeoutMs / 8)))
  }

  private nextTimestamp (): Timestamp {
    let stamp = BigInt(Math.floor(this.c.now())) * 1_000_000n
    if (stamp <= this.lastStamp) stamp = this.lastStamp + 1n
    this.lastStamp = stamp
    return create(TimestampSchema, { seconds: stamp / 1_000_000_000n, nanos: Number(stamp % 1_000_000_000n) })
  }
}

function txidOf (payload: Uint8Array): string | undefined {
  try {
    return fromBinary(TransactionSchema, payload).txid
  } catch {
    return undefined
  }
}
