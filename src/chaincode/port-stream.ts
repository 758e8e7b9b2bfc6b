import { fromBinary, toBinary } from '@bufbuild/protobuf'
import { ChaincodeMessageSchema, type ChaincodeMessage } from '../protos/chaincode_pb.ts'
import { StreamClosedError } from '../transport/errors.ts'
import { defaultQueueLimit, Inbox, type ChaincodeStream } from './stream.ts'

/** How a side sends several messages in one crossing. */
export interface PortBatching {
  /** Several marshaled messages in one buffer, each after its length (4 bytes, little-endian): transfer it. */
  post (packed: ArrayBuffer): void
  /**
   * Runs `flush` once this turn's messages are sent (a microtask). Only for a side that never
   * blocks: a chaincode's side must not hold an answer back while it runs the next transaction,
   * which may loop forever.
   */
  defer (flush: () => void): void
}

/** One side of a ChaincodeStream carried over a worker channel (postMessage of marshaled ChaincodeMessages). */
export interface PortStream {
  readonly stream: ChaincodeStream
  /** Feed every message the channel receives to it. */
  deliver (data: unknown): void
  /** The channel is gone (worker exited, crashed, was terminated). */
  end (err?: Error): void
}

/**
 * Wraps a postMessage channel (worker_threads port, Web Worker) as a ChaincodeStream. Both
 * sides speak marshaled ChaincodeMessage bytes, so what crosses is exactly the gRPC wire's payload.
 * With `batch`, the messages sent before `batch.defer` runs its callback cross together, packed
 * in one buffer: every crossing wakes the other thread, which costs more than the message, and
 * one buffer clones and transfers for much less than many. Either side takes both forms.
 */
export function portStream (remote: string, post: (bytes: Uint8Array) => void, limit = defaultQueueLimit, batch?: PortBatching): PortStream {
  const inbox = new Inbox<ChaincodeMessage>(limit)
  const end = (err?: Error): void => { inbox.end(err) }
  let outgoing: Uint8Array[] = []
  const flush = (): void => {
    const out = outgoing
    outgoing = []
    if (out.length === 1) post(out[0])
    else batch!.post(pack(out))
  }
  const deliverOne = (data: unknown): void => {
    if (inbox.closed) return
    if (!(data instanceof Uint8Array)) {
      end(new Error(`${remote} sent something other than a marshaled ChaincodeMessage`))
      return
    }
    let msg: ChaincodeMessage
    try {
      msg = fromBinary(ChaincodeMessageSchema, data)
    } catch (err) {
      end(new Error(`${remote} sent a malformed ChaincodeMessage: ${(err as Error).message}`))
      return
    }
    if (!inbox.push(msg)) end(new Error(`${remote} sent more than ${limit} messages that were not read`))
  }
  const deliverPacked = (packed: ArrayBuffer): void => {
    const bytes = new Uint8Array(packed)
    for (let at = 0; at < bytes.length && !inbox.closed;) {
      const len = at + 4 <= bytes.length ? (bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16 | bytes[at + 3] << 24) >>> 0 : -1
      at += 4
      if (len < 0 || at + len > bytes.length) {
        end(new Error(`${remote} sent a malformed batch of ChaincodeMessages`))
        return
      }
      deliverOne(bytes.subarray(at, at + len))
      at += len
    }
  }
  return {
    end,
    deliver (data) {
      if (data instanceof ArrayBuffer) deliverPacked(data)
      else deliverOne(data)
    },
    stream: {
      remote,
      async send (msg) {
        if (inbox.closed) throw new StreamClosedError(`chaincode stream to ${remote} is closed`)
        const bytes = toBinary(ChaincodeMessageSchema, msg)
        if (batch === undefined) {
          post(bytes)
          return
        }
        outgoing.push(bytes)
        if (outgoing.length === 1) batch.defer(flush)
      },
      recv: async () => await inbox.next(),
      async close (err) { end(err) }
    }
  }
}

/** Messages in one buffer, each after its length (PortBatching.post). */
function pack (messages: Uint8Array[]): ArrayBuffer {
  let size = 0
  for (const m of messages) size += 4 + m.length
  const out = new Uint8Array(size)
  let at = 0
  for (const m of messages) {
    out[at] = m.length
    out[at + 1] = m.length >>> 8
    out[at + 2] = m.length >>> 16
    out[at + 3] = m.length >>> 24
    out.set(m, at + 4)
    at += 4 + m.length
  }
  return out.buffer
}
