import type { DescMessage, MessageShape } from '@bufbuild/protobuf'
import type { Connection, Stream, StreamCloseEvent } from '@libp2p/interface'
import { MessageSchema } from '../protos/fabric_pb.ts'
import type { ChatStream } from './chat-stream.ts'
import { FrameDecodeError, SendQueueFullError, StreamClosedError } from './errors.ts'
import { decodeProto, encodeProtoFrame, FrameDecoder } from './frame.ts'
import { ReceiveQueue } from './receive-queue.ts'

export interface Libp2pChatStreamOptions {
  maxMessageSize: number
  /** Received frames (count and bytes) held for the reader before the stream is paused. */
  maxQueuedFrames: number
  maxQueuedBytes: number
  /** Sends that may wait for the transport to drain; one more is refused. */
  maxPendingSends: number
}

/** What carries the connection, for logs: relay, webrtc, ws, tcp or memory. */
export function describeConnection (connection: Connection): string {
  const a = connection.remoteAddr.toString()
  const kind = a.includes('/p2p-circuit') ? 'relay' : a.includes('/webrtc') ? 'webrtc' : /\/wss?\b/.test(a) ? 'ws' : a.includes('/tcp/') ? 'tcp' : a.includes('/memory/') ? 'memory' : 'other'
  return `libp2p/${kind}`
}

/**
 * Length-prefixed protobuf messages of one schema over one libp2p stream. libp2p 3 hands
 * over incoming data as events without back-pressure, so the reader's queue is bounded here:
 * when it fills the stream is paused (yamux then withholds window updates, which stops the
 * sender) and resumed as the reader catches up.
 */
export class Libp2pFramedStream<D extends DescMessage> {
  readonly remote: string
  readonly transport: string
  private readonly decoder: FrameDecoder
  private readonly frames = new ReceiveQueue<Uint8Array>()
  private queuedBytes = 0
  private paused = false
  private remoteEnded = false
  private failure?: Error
  private sending: Promise<void> = Promise.resolve()
  private pendingSends = 0

  /** `onClose` runs once, when this side closes the stream. */
  constructor (private readonly schema: D, private readonly stream: Stream, connection: Connection, private readonly opts: Libp2pChatStreamOptions, private readonly onClose?: () => void) {
    this.remote = connection.remotePeer.toString()
    this.transport = describeConnection(connection)
    this.decoder = new FrameDecoder(opts.maxMessageSize, this.remote)
    // Paused data waits in the stream; leave room for a full yamux window beyond one frame.
    stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, opts.maxMessageSize + 16 * 1024 * 1024)
    stream.addEventListener('message', evt => { this.onData(evt.data instanceof Uint8Array ? evt.data : evt.data.subarray()) })
    stream.addEventListener('remoteCloseWrite', () => { this.remoteEnded = true; this.frames.wake() })
    stream.addEventListener('close', evt => {
      if (evt.error !== undefined && !this.frames.closed) this.failure ??= evt.error
      else this.remoteEnded = true
      this.frames.wake()
    })
  }

  async send (msg: MessageShape<D>): Promise<void> {
    this.checkWritable()
    await this.sendFrame(encodeProtoFrame(this.schema, msg, this.opts.maxMessageSize, this.remote))
  }

  /** Sends a frame as it is (length prefix included): a message of another schema than the one received. */
  async sendFrame (frame: Uint8Array): Promise<void> {
    this.checkWritable()
    if (this.pendingSends >= this.opts.maxPendingSends) {
      throw new SendQueueFullError(`send queue to ${this.remote} full: ${this.pendingSends} messages wait for the transport to drain`)
    }
    this.pendingSends++
    const run = this.sending.then(async () => {
      if (!this.stream.send(frame)) await drained(this.stream, this.remote)
    })
    this.sending = run.catch(() => {})
    try {
      await run
    } finally {
      this.pendingSends--
    }
  }

  async recv (): Promise<MessageShape<D> | undefined> {
    const frame = await this.recvFrame()
    return frame === undefined ? undefined : decodeProto(this.schema, frame, this.remote)
  }

  /** The next frame's body, undecoded; undefined once the stream has ended. */
  async recvFrame (): Promise<Uint8Array | undefined> {
    while (true) {
      const frame = this.frames.shift()
      if (frame !== undefined) {
        this.queuedBytes -= frame.length
        this.maybeResume()
        return frame
      }
      if (this.failure !== undefined) throw this.failure
      if (this.frames.closed) return undefined
      if (this.remoteEnded) {
        if (this.decoder.pendingBytes > 0) throw new FrameDecodeError(`chat stream from ${this.remote} ended inside a frame (${this.decoder.pendingBytes} bytes left)`)
        return undefined
      }
      await this.frames.wait()
    }
  }

  /** Something received waits to be read (a frame, or part of one). */
  get hasUnread (): boolean { return this.frames.length > 0 || this.decoder.pendingBytes > 0 }

  async close (err?: Error): Promise<void> {
    if (!this.frames.close()) return
    this.onClose?.()
    if (err !== undefined) {
      this.stream.abort(err)
      return
    }
    await this.sending
    try {
      await this.stream.close()
    } catch (e) {
      this.stream.abort(e as Error)
    }
  }

  private checkWritable (): void {
    if (this.frames.closed || this.failure !== undefined || this.stream.writeStatus !== 'writable') {
      throw new StreamClosedError(`chat stream to ${this.remote} is closed`)
    }
  }

  private onData (bytes: Uint8Array): void {
    if (this.frames.closed || this.failure !== undefined) return
    try {
      for (const f of this.decoder.push(bytes)) {
        this.frames.push(f)
        this.queuedBytes += f.length
      }
    } catch (err) {
      // A frame over the limit, or a broken prefix: nothing after it can be trusted.
      this.failure = err as Error
      this.stream.abort(err as Error)
    }
    if (!this.paused && (this.frames.length >= this.opts.maxQueuedFrames || this.queuedBytes >= this.opts.maxQueuedBytes) && this.stream.readStatus === 'readable') {
      this.stream.pause()
      this.paused = true
    }
    this.frames.wake()
  }

  private maybeResume (): void {
    if (!this.paused || this.frames.length > this.opts.maxQueuedFrames / 2 || this.queuedBytes > this.opts.maxQueuedBytes / 2) return
    this.paused = false
    if (this.stream.readStatus === 'paused') this.stream.resume()
  }
}

/** A Chat over one libp2p stream: protos.Message frames. */
export class Libp2pChatStream extends Libp2pFramedStream<typeof MessageSchema> implements ChatStream {
  constructor (stream: Stream, connection: Connection, opts: Libp2pChatStreamOptions, onClose?: () => void) {
    super(MessageSchema, stream, connection, opts, onClose)
  }
}

/**
 * Resolves at the stream's next 'drain'. Not Stream.onDrain(): in @libp2p/utils 7.4 it keeps
 * returning the first, long-resolved promise, so after one drain it no longer waits at all.
 */
function drained (stream: Stream, remote: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => { done(); resolve() }
    const onClose = (evt: StreamCloseEvent): void => { done(); reject(evt.error ?? new StreamClosedError(`chat stream to ${remote} closed while sending`)) }
    const done = (): void => {
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
    }
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('close', onClose)
  })
}
