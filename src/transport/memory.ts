import { fromBinary, toBinary } from '@bufbuild/protobuf'
import { ResponseSchema, TransactionSchema, type Message, type Response, type Transaction } from '../protos/fabric_pb.ts'
import type { ChatServer, ChatDialer, TransportServer } from './chat-server.ts'
import type { ChatStream } from './chat-stream.ts'
import { MessageTooLargeError, SendQueueFullError, StreamClosedError } from './errors.ts'
import { DEFAULT_MAX_MESSAGE_SIZE, decodeMessage, encodeMessage } from './frame.ts'
import { ReceiveQueue } from './receive-queue.ts'
import type { PeerTransport } from './peer-transport.ts'

export interface MemoryChatOptions {
  /** Largest message this end sends or accepts (bytes). */
  maxMessageSize?: number
  /** Messages that may wait unread at this end; senders wait while it is full. */
  capacity?: number
  /** Senders that may wait for room; one more is refused with SendQueueFullError. */
  maxPendingSends?: number
}

type Item = { bytes: Uint8Array } | { error: Error }

/** One end of an in-memory Chat stream. Messages cross as bytes, so nothing is shared between peers. */
class MemoryChatEnd implements ChatStream {
  readonly transport = 'memory'
  other!: MemoryChatEnd
  private readonly inbox = new ReceiveQueue<Item>()
  private readonly roomWaiters: Array<() => void> = []
  private remoteEnd?: { error?: Error }
  private readonly maxSize: number
  private readonly capacity: number
  private readonly maxPending: number

  constructor (readonly local: string, readonly remote: string, opts: MemoryChatOptions) {
    this.maxSize = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE
    this.capacity = opts.capacity ?? 64
    this.maxPending = opts.maxPendingSends ?? 256
  }

  async send (msg: Message): Promise<void> {
    this.checkWritable()
    await this.other.deliver(encodeMessage(msg, this.maxSize, this.remote))
  }

  async recv (): Promise<Message | undefined> {
    while (true) {
      if (this.inbox.closed) return undefined
      const item = this.inbox.shift()
      if (item !== undefined) {
        this.roomWaiters.shift()?.()
        if ('error' in item) {
          void this.close(item.error)
          throw item.error
        }
        return decodeMessage(item.bytes, this.remote)
      }
      if (this.remoteEnd !== undefined) {
        if (this.remoteEnd.error !== undefined) throw this.remoteEnd.error
        return undefined
      }
      await this.inbox.wait()
    }
  }

  async close (err?: Error): Promise<void> {
    if (!this.inbox.close()) return
    this.wakeSenders()
    this.other.remoteClosed(err === undefined ? undefined : new StreamClosedError(`chat stream aborted by ${this.local}: ${err.message}`))
  }

  private checkWritable (): void {
    if (this.inbox.closed) throw new StreamClosedError(`chat stream to ${this.remote} is closed`)
    if (this.remoteEnd !== undefined) throw new StreamClosedError(`chat stream closed by ${this.remote}`)
  }

  /** Called on the receiving end: waits for room, then queues the frame in order. */
  private async deliver (bytes: Uint8Array): Promise<void> {
    while (this.inbox.length >= this.capacity && !this.inbox.closed) {
      if (this.roomWaiters.length >= this.maxPending) {
        throw new SendQueueFullError(`send queue to ${this.local} full: ${this.maxPending} messages already wait for the reader`)
      }
      await new Promise<void>(resolve => this.roomWaiters.push(resolve))
    }
    if (this.inbox.closed) throw new StreamClosedError(`chat stream closed by ${this.local}`)
    this.inbox.push(bytes.length > this.maxSize
      ? { error: new MessageTooLargeError(bytes.length, this.maxSize, 'receive', this.remote) }
      : { bytes })
  }

  private remoteClosed (error?: Error): void {
    if (this.remoteEnd !== undefined) return
    this.remoteEnd = { error }
    this.inbox.wake()
    this.wakeSenders()
  }

  private wakeSenders (): void {
    for (const w of this.roomWaiters.splice(0)) w()
  }
}

/** Two connected Chat stream ends, e.g. for unit tests; each end may have its own limits. */
export function memoryChatPair (a: string, b: string, optsA: MemoryChatOptions = {}, optsB: MemoryChatOptions = optsA): [ChatStream, ChatStream] {
  const endA = new MemoryChatEnd(a, b, optsA)
  const endB = new MemoryChatEnd(b, a, optsB)
  endA.other = endB
  endB.other = endA
  return [endA, endB]
}

/** A memory-network name: no '/' (multiaddr) or ':' (host:port), which belong to other transports. */
export function isMemoryName (address: string): boolean {
  return address !== '' && !/[/:]/.test(address)
}

/** Peers in one process reaching each other by name: a ChatDialer with no sockets. */
export class MemoryNetwork {
  private readonly servers = new Map<string, ChatServer>()

  /** Makes `server` reachable at `address`; returns a function that takes it off the network. */
  listen (address: string, server: ChatServer): () => void {
    if (this.servers.has(address)) throw new Error(`memory address ${address} is already in use`)
    this.servers.set(address, server)
    return () => { if (this.servers.get(address) === server) this.servers.delete(address) }
  }

  /** The peer called `name` on this network: reached at its name once started. */
  transport (name: string, options: MemoryChatOptions = {}): PeerTransport {
    const dialer = this.dialer(name, options)
    const accepted = new Set<ChatStream>()
    const listen = (server: ChatServer): () => void => this.listen(name, server)
    let unlisten: (() => void) | undefined
    return {
      name: 'memory',
      address: name,
      canDial: isMemoryName,
      dialChat: async (address, opts) => await dialer.dialChat(address, opts),
      processTransaction: async (address, tx, opts) => await dialer.processTransaction(address, tx, opts),
      async start (server: TransportServer) {
        unlisten = listen({
          handleChat: async (stream, initiated) => {
            accepted.add(stream)
            try { await server.handleChat(stream, initiated) } finally { accepted.delete(stream) }
          },
          processTransaction: async tx => await server.processTransaction(tx)
        })
      },
      async stop () {
        unlisten?.()
        unlisten = undefined
        await Promise.allSettled([...accepted].map(async s => await s.close()))
      }
    }
  }

  /** A dialer for the peer called `local`; `options` apply to both ends of the streams it opens. */
  dialer (local: string, options: MemoryChatOptions = {}): ChatDialer {
    const lookup = (address: string): ChatServer => {
      const server = this.servers.get(address)
      if (server === undefined) throw new Error(`no peer listening at memory address ${address}`)
      return server
    }
    return {
      async dialChat (address) {
        const server = lookup(address)
        const [mine, theirs] = memoryChatPair(local, address, options)
        // The server logs how its side ended; the dialer learns it from its own end.
        server.handleChat(theirs, false).catch(() => {})
        return mine
      },
      async processTransaction (address, tx: Transaction): Promise<Response> {
        const server = lookup(address)
        const response = await server.processTransaction(fromBinary(TransactionSchema, toBinary(TransactionSchema, tx)))
        return fromBinary(ResponseSchema, toBinary(ResponseSchema, response))
      }
    }
  }
}
