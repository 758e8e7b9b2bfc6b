import { fromBinary, toBinary } from '@bufbuild/protobuf'
import { ChaincodeMessageSchema, type ChaincodeMessage } from '../protos/chaincode_pb.ts'
import { StreamClosedError } from '../transport/errors.ts'
import { defaultQueueLimit, Inbox, type ChaincodeStream } from './stream.ts'

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
 */
export function portStream (remote: string, post: (bytes: Uint8Array) => void, limit = defaultQueueLimit): PortStream {
  const inbox = new Inbox<ChaincodeMessage>(limit)
  const end = (err?: Error): void => { inbox.end(err) }
  return {
    end,
    deliver (data) {
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
    },
    stream: {
      remote,
      async send (msg) {
        if (inbox.closed) throw new StreamClosedError(`chaincode stream to ${remote} is closed`)
        post(toBinary(ChaincodeMessageSchema, msg))
      },
      recv: async () => await inbox.next(),
      async close (err) { end(err) }
    }
  }
}
