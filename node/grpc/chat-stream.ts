// Fabric's Peer.Chat over grpc-js: a ChatStream on either end of the bidi call, and the Chat
// handler for addPeerService. Messages cross as bytes (the method is registered raw) so this
// file checks sizes and decodes, with the same errors as the libp2p and memory transports.
import { status, type ClientDuplexStream, type ServerDuplexStream, type UntypedHandleCall } from '@grpc/grpc-js'
import type { Message } from '../../src/protos/fabric_pb.ts'
import type { ChatServer } from '../../src/transport/chat-server.ts'
import type { ChatStream } from '../../src/transport/chat-stream.ts'
import { MessageTooLargeError, SendQueueFullError, StreamClosedError } from '../../src/transport/errors.ts'
import { DEFAULT_MAX_MESSAGE_SIZE, decodeMessage, encodeMessage } from '../../src/transport/frame.ts'
import { ReaderWake } from '../../src/transport/receive-queue.ts'

export interface GrpcChatOptions {
  /** Largest Chat message sent or accepted (bytes). The call's transport limit must not be lower. */
  maxMessageSize?: number
  /** Sends that may wait for the call to drain; one more is refused with SendQueueFullError. */
  maxPendingSends?: number
}

export type ChatCall = ServerDuplexStream<Uint8Array, Uint8Array> | ClientDuplexStream<Uint8Array, Uint8Array>

/**
 * One end of a Peer.Chat call. Reading is pull-based: grpc-js reads the next messages off the
 * HTTP/2 stream only as this side consumes them, so a slow reader holds the sender back through
 * flow control. Sends go out in order and wait for the call to drain once its buffer is full.
 */
export class GrpcChatStream implements ChatStream {
  readonly transport = 'grpc'
  private readonly maxSize: number
  private readonly maxPending: number
  private remoteEnded = false
  private failure?: Error
  private closed = false
  private readonly reader = new ReaderWake()
  private sending: Promise<void> = Promise.resolve()
  private pendingSends = 0

  /** `remote` is host:port: the dialled address, or the caller's address on the server side. */
  constructor (private readonly call: ChatCall, private readonly side: 'server' | 'client', readonly remote: string, opts: GrpcChatOptions = {}) {
    this.maxSize = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE
    this.maxPending = opts.maxPendingSends ?? 256
    call.on('readable', () => { this.reader.wake() })
    call.on('end', () => { this.remoteEnded = true; this.reader.wake() })
    call.on('error', (err: Error & { details?: string }) => {
      if (!this.closed) this.failure ??= new StreamClosedError(`Chat call with ${remote} failed: ${err.details ?? err.message}`)
      this.reader.wake()
    })
    // Server side: the client cancelled, its connection dropped, or grpc-js refused a message over the server's limit.
    call.on('cancelled', () => {
      if (!this.closed) this.failure ??= new StreamClosedError(`Chat call from ${remote} was cancelled`)
      this.reader.wake()
    })
    call.on('close', () => {
      if (!this.closed && !this.remoteEnded) this.failure ??= new StreamClosedError(`Chat call with ${remote} closed`)
      this.reader.wake()
    })
  }

  async send (msg: Message): Promise<void> {
    this.checkWritable()
    const body = encodeMessage(msg, this.maxSize, this.remote)
    if (this.pendingSends >= this.maxPending) {
      throw new SendQueueFullError(`send queue to ${this.remote} full: ${this.pendingSends} messages wait for the call to drain`)
    }
    this.pendingSends++
    const run = this.sending.then(async () => {
      this.checkWritable()
      if (!this.call.write(body)) await drained(this.call, this.remote)
    })
    this.sending = run.catch(() => {})
    try {
      await run
    } finally {
      this.pendingSends--
    }
  }

  async recv (): Promise<Message | undefined> {
    while (true) {
      if (this.closed) return undefined
      const body = this.call.read() as Uint8Array | null
      if (body !== null) {
        if (body.length > this.maxSize) throw new MessageTooLargeError(body.length, this.maxSize, 'receive', this.remote)
        return decodeMessage(body, this.remote)
      }
      if (this.failure !== undefined) throw this.failure
      if (this.remoteEnded) return undefined
      await this.reader.wait()
    }
  }

  /**
   * Clean close: the server ends the call with OK, the client half-closes (Fabric's CloseSend).
   * With an error: the server ends the call with UNKNOWN and the error's text (what grpc-go
   * sends for Fabric's failed handleChat); the client cancels.
   */
  async close (err?: Error): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.reader.wake()
    if (this.call.destroyed) return
    if (err === undefined) {
      this.call.end()
    } else if (this.side === 'server') {
      this.call.emit('error', { code: status.UNKNOWN, details: err.message })
    } else {
      (this.call as ClientDuplexStream<Uint8Array, Uint8Array>).cancel()
    }
  }

  private checkWritable (): void {
    if (this.closed) throw new StreamClosedError(`chat stream to ${this.remote} is closed`)
    if (this.failure !== undefined || !this.call.writable) throw new StreamClosedError(`chat stream to ${this.remote} was closed by the remote side`)
  }
}

/** Resolves at the call's next 'drain'; rejects when it closes first. */
function drained (call: ChatCall, remote: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => { done(); resolve() }
    const onClose = (): void => { done(); reject(new StreamClosedError(`chat stream to ${remote} closed while sending`)) }
    const done = (): void => {
      call.off('drain', onDrain)
      call.off('close', onClose)
    }
    call.on('drain', onDrain)
    call.on('close', onClose)
  })
}

/** grpc-js gives the caller as "host:port" with IPv6 hosts unbracketed; bracket them as Weft writes addresses. */
function callerAddress (peer: string): string {
  const m = /^(.*):(\d+)$/.exec(peer)
  return m !== null && m[1].includes(':') ? `[${m[1]}]:${m[2]}` : peer
}

/**
 * The Peer.Chat handler for addPeerService: each call is a chat a remote peer opened, run by
 * `server` (the Peer). Serve it with startGrpcServer({ maxMessageSize }) at least as large as
 * this chat's, or grpc-js refuses big messages before the chat sees them.
 */
export function grpcChatHandler (server: Pick<ChatServer, 'handleChat'>, options: GrpcChatOptions = {}): UntypedHandleCall {
  return ((call: ServerDuplexStream<Uint8Array, Uint8Array>) => {
    // The peer logs how each chat ends; nothing is left to do with the outcome here.
    server.handleChat(new GrpcChatStream(call, 'server', callerAddress(call.getPeer()), options), false).catch(() => {})
  }) as UntypedHandleCall
}
