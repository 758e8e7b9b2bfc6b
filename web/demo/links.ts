// The demo network's wire: in-memory Chat streams (src/transport/memory.ts) between named
// replicas, with what the demo needs on top: every message can be watched or rewritten on its
// way out (the message-flow picture, a byzantine replica), and a replica can be cut off
// (partition: its links are aborted and new dials to or from it fail until it is healed).
import { fromBinary, toBinary } from '@bufbuild/protobuf'
import { ResponseSchema, TransactionSchema, type Message, type Response, type Transaction } from '../../src/protos/fabric_pb.ts'
import type { ChatDialer, ChatServer } from '../../src/transport/chat-server.ts'
import type { ChatStream } from '../../src/transport/chat-stream.ts'
import { StreamClosedError } from '../../src/transport/errors.ts'
import { isMemoryName, memoryChatPair } from '../../src/transport/memory.ts'
import type { PeerTransport } from '../../src/transport/peer-transport.ts'

/** Sees each message leaving `from` for `to`; returns the message to send (possibly changed), or null to drop it. */
export type SendHook = (from: string, to: string, msg: Message) => Message | null

interface Link { a: string, b: string, ends: ChatStream[] }

export class DemoLinks {
  private readonly servers = new Map<string, ChatServer>()
  private readonly links = new Set<Link>()
  readonly isolated = new Set<string>()
  onSend?: SendHook

  /** Replica `name`'s transport: reachable at its name while started. */
  transport (name: string): PeerTransport {
    const dialer = this.dialer(name)
    let unlisten: (() => void) | undefined
    return {
      name: 'memory',
      address: name,
      canDial: isMemoryName,
      dialChat: (address, options) => dialer.dialChat(address, options),
      processTransaction: (address, tx, options) => dialer.processTransaction(address, tx, options),
      start: async server => { unlisten = this.listen(name, server) },
      stop: async () => { unlisten?.(); unlisten = undefined }
    }
  }

  private listen (name: string, server: ChatServer): () => void {
    if (this.servers.has(name)) throw new Error(`${name} is already on the demo network`)
    this.servers.set(name, server)
    return () => { if (this.servers.get(name) === server) this.servers.delete(name) }
  }

  private reachable (from: string, to: string): ChatServer {
    if (this.isolated.has(from)) throw new Error(`${from} is partitioned from the network`)
    if (this.isolated.has(to)) throw new Error(`${to} is unreachable (partitioned)`)
    const server = this.servers.get(to)
    if (server === undefined) throw new Error(`${to} is unreachable (down)`)
    return server
  }

  private dialer (local: string): ChatDialer {
    return {
      dialChat: async (address) => {
        const server = this.reachable(local, address)
        const [mine, theirs] = memoryChatPair(local, address, { capacity: 256, maxPendingSends: 4096 })
        const link: Link = { a: local, b: address, ends: [] }
        const wrappedMine = this.end(link, mine, local, address)
        const wrappedTheirs = this.end(link, theirs, address, local)
        link.ends.push(wrappedMine, wrappedTheirs)
        this.links.add(link)
        server.handleChat(wrappedTheirs, false).catch(() => {})
        return wrappedMine
      },
      processTransaction: async (address, tx: Transaction): Promise<Response> => {
        const server = this.reachable(local, address)
        const response = await server.processTransaction(fromBinary(TransactionSchema, toBinary(TransactionSchema, tx)))
        return fromBinary(ResponseSchema, toBinary(ResponseSchema, response))
      }
    }
  }

  private end (link: Link, inner: ChatStream, from: string, to: string): ChatStream {
    return {
      remote: inner.remote,
      transport: inner.transport,
      send: async (msg) => {
        if (this.isolated.has(from) || this.isolated.has(to)) throw new StreamClosedError(`link ${from} → ${to} is cut`)
        const out = this.onSend === undefined ? msg : this.onSend(from, to, msg)
        if (out === null) return
        await inner.send(out)
      },
      recv: () => inner.recv(),
      close: async (err) => {
        this.links.delete(link)
        await inner.close(err)
      }
    }
  }

  /** Aborts every link of `name` (both ends see an error, as when a cable is pulled). */
  cut (name: string, why: string): void {
    for (const link of [...this.links]) {
      if (link.a !== name && link.b !== name) continue
      this.links.delete(link)
      for (const e of link.ends) void e.close(new Error(why))
    }
  }

  isolate (name: string): void {
    this.isolated.add(name)
    this.cut(name, `${name} partitioned`)
  }

  heal (name: string): void { this.isolated.delete(name) }

  /** Open links, for the UI. */
  linkCount (): number { return this.links.size }
}
