import { clone } from '@bufbuild/protobuf'
import { TimestampSchema, type Timestamp } from '@bufbuild/protobuf/wkt'
import { ChaincodeSecurityContextSchema, type ChaincodeMessage, type ChaincodeSecurityContext } from '../protos/chaincode_pb.ts'
import { ChaincodeEventSchema } from '../protos/chaincodeevent_pb.ts'
import { StreamClosedError } from '../transport/errors.ts'
import type { MessageStream } from '../util/message-stream.ts'

/**
 * One ChaincodeSupport.Register conversation: the peer's side of a chaincode, or the
 * chaincode's side of the peer, whatever carries it (gRPC stream, worker channel, memory).
 */
export type ChaincodeStream = MessageStream<ChaincodeMessage>

/** Default bound of a receive queue: a side that stops reading makes the other's send fail, not grow memory. */
export const defaultQueueLimit = 10_000

/**
 * The receiving half of a stream: what the transport pushes, and what recv() pops.
 * Transports (memory pair, worker channel, gRPC call) build their ChaincodeStream on it.
 */
export class Inbox<T> {
  private readonly items: T[] = []
  private readonly waiters: Array<{ resolve: (v: T | undefined) => void, reject: (e: Error) => void }> = []
  private ended = false
  private failure?: Error

  constructor (readonly limit = defaultQueueLimit) {}

  get closed (): boolean { return this.ended }

  /** Adds an item; false when the inbox is closed or full (the caller reports it). */
  push (item: T): boolean {
    if (this.ended) return false
    const w = this.waiters.shift()
    if (w !== undefined) { w.resolve(item); return true }
    if (this.items.length >= this.limit) return false
    this.items.push(item)
    return true
  }

  /** No more items: queued ones are still delivered, then recv() gives undefined (or throws `err`). */
  end (err?: Error): void {
    if (this.ended) return
    this.ended = true
    this.failure = err
    for (const w of this.waiters.splice(0)) {
      if (err === undefined) w.resolve(undefined)
      else w.reject(err)
    }
  }

  async next (): Promise<T | undefined> {
    if (this.items.length > 0) return this.items.shift()
    if (this.ended) {
      if (this.failure !== undefined) throw this.failure
      return undefined
    }
    return await new Promise<T | undefined>((resolve, reject) => { this.waiters.push({ resolve, reject }) })
  }
}

/**
 * Two connected in-memory streams (peer side, chaincode side), for in-process chaincode
 * and tests. Messages are cloned on the way so neither side can mutate the other's copy.
 */
export function chaincodeStreamPair (names: { peer?: string, chaincode?: string } = {}, limit = defaultQueueLimit): { peer: ChaincodeStream, chaincode: ChaincodeStream } {
  const toPeer = new Inbox<ChaincodeMessage>(limit)
  const toChaincode = new Inbox<ChaincodeMessage>(limit)
  const side = (remote: string, inbox: Inbox<ChaincodeMessage>, outbox: Inbox<ChaincodeMessage>): ChaincodeStream => ({
    remote,
    async send (msg) {
      if (outbox.closed || inbox.closed) throw new StreamClosedError(`chaincode stream to ${remote} is closed`)
      if (!outbox.push(copyMessage(msg))) throw new Error(`chaincode stream to ${remote}: queue full (${outbox.limit} unread messages)`)
    },
    recv: async () => await inbox.next(),
    async close (err) {
      inbox.end(err)
      outbox.end(err)
    }
  })
  return {
    peer: side(names.chaincode ?? 'chaincode', toPeer, toChaincode),
    chaincode: side(names.peer ?? 'peer', toChaincode, toPeer)
  }
}

/**
 * A deep copy of `msg`. structuredClone (and protobuf's generic clone) cost several microseconds
 * a message, a good part of an in-process invoke; the fields a message usually has are copied by
 * hand, the rare rest (unknown fields inside them, a chaincode event) by protobuf.
 */
function copyMessage (msg: ChaincodeMessage): ChaincodeMessage {
  // Fields set one by one (no spread, no undefined ones): the copy has the original's shape, cheaply.
  const out: ChaincodeMessage = { $typeName: msg.$typeName, type: msg.type, payload: copyBytes(msg.payload), txid: msg.txid }
  if (msg.timestamp !== undefined) out.timestamp = copyTimestamp(msg.timestamp)
  if (msg.securityContext !== undefined) out.securityContext = copySecurityContext(msg.securityContext)
  if (msg.chaincodeEvent !== undefined) out.chaincodeEvent = clone(ChaincodeEventSchema, msg.chaincodeEvent)
  if (msg.$unknown !== undefined) out.$unknown = msg.$unknown.map(u => ({ no: u.no, wireType: u.wireType, data: copyBytes(u.data) }))
  return out
}

function copySecurityContext (sc: ChaincodeSecurityContext): ChaincodeSecurityContext {
  if (sc.$unknown !== undefined) return clone(ChaincodeSecurityContextSchema, sc)
  const out: ChaincodeSecurityContext = {
    $typeName: sc.$typeName,
    callerCert: copyBytes(sc.callerCert),
    callerSign: copyBytes(sc.callerSign),
    payload: copyBytes(sc.payload),
    binding: copyBytes(sc.binding),
    metadata: copyBytes(sc.metadata),
    parentMetadata: copyBytes(sc.parentMetadata)
  }
  if (sc.txTimestamp !== undefined) out.txTimestamp = copyTimestamp(sc.txTimestamp)
  return out
}

/** An empty array is shared: nothing can change it, and allocating typed arrays is most of a copy's cost. */
function copyBytes (b: Uint8Array): Uint8Array {
  return b.length === 0 ? b : b.slice()
}

function copyTimestamp (ts: Timestamp): Timestamp {
  return ts.$unknown === undefined ? { $typeName: ts.$typeName, seconds: ts.seconds, nanos: ts.nanos } : clone(TimestampSchema, ts)
}
