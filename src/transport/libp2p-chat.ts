// Fabric's Peer service over libp2p: /weft/chat/0.6.1 carries one long-lived Chat per peer
// pair, /weft/process-tx-stream/0.6.1 (and the older /weft/process-tx/0.6.1) Transactions in and
// Responses out (libp2p-process-tx.ts). Both run on limited (relayed) connections, which is how
// browser peers reach each other and the Node peer.
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Response, Transaction } from '../protos/fabric_pb.ts'
import { systemScheduler, type Scheduler } from '../util/scheduler.ts'
import type { AbortOptions, TransportServer } from './chat-server.ts'
import type { ChatStream } from './chat-stream.ts'
import { DEFAULT_MAX_MESSAGE_SIZE } from './frame.ts'
import { PROCESS_TX_IDLE_TIMEOUT, PROCESS_TX_PROTOCOL, PROCESS_TX_STREAM_LIMITS, PROCESS_TX_STREAM_PROTOCOL, ProcessTxClient, ProcessTxServer } from './libp2p-process-tx.ts'
import { Libp2pChatStream, type Libp2pChatStreamOptions } from './libp2p-stream.ts'
import type { PeerTransport } from './peer-transport.ts'

export const CHAT_PROTOCOL = '/weft/chat/0.6.1'

export interface Libp2pChatInit {
  /** Largest Chat message, Transaction or Response (bytes); bigger ones are refused with an error. */
  maxMessageSize?: number
  /** Received messages held for the peer before the stream is paused. */
  maxQueuedMessages?: number
  maxQueuedBytes?: number
  maxPendingSends?: number
  /** How long one ProcessTransaction may take end to end (ms). */
  processTxTimeout?: number
  /** How long a served process-tx stream may wait for its next transaction (ms). */
  processTxIdleTimeout?: number
  /** Idle process-tx streams kept per remote peer for the next transactions. */
  processTxIdleStreams?: number
  /** Timers for the process-tx timeouts. */
  scheduler?: Scheduler
  /** Open a Chat with every peer this node dials for other reasons (bootstrap, discovery) once identify shows it speaks Chat. */
  chatWithDiscoveredPeers?: boolean
  /** This peer's address for libp2p peers (a relay's circuit address, say); default: its first routable multiaddr, else /p2p/<id>. */
  address?: string
}

export interface Libp2pChatComponents {
  node: Libp2p
}

/** A Chat needs one stream per peer pair; a second may exist briefly when both sides dial at once. */
const CHAT_STREAM_LIMITS = { maxInboundStreams: 4, maxOutboundStreams: 4 }

export class Libp2pChat implements PeerTransport {
  readonly name = 'libp2p'
  private readonly node: Libp2p
  private readonly streamOpts: Libp2pChatStreamOptions
  private readonly processTx: ProcessTxClient
  private readonly serveTx: ProcessTxServer
  private readonly open = new Set<ChatStream>()
  private server?: TransportServer
  private onIdentify?: (evt: CustomEvent<{ peerId: PeerId, protocols: string[], connection: Connection }>) => void

  constructor (private readonly init: Libp2pChatInit, components: Libp2pChatComponents) {
    this.node = components.node
    const max = init.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE
    this.streamOpts = {
      maxMessageSize: max,
      maxQueuedFrames: init.maxQueuedMessages ?? 64,
      maxQueuedBytes: init.maxQueuedBytes ?? 4 * 1024 * 1024,
      maxPendingSends: init.maxPendingSends ?? 256
    }
    const txInit = { streams: this.streamOpts, timeout: init.processTxTimeout ?? 30_000, scheduler: init.scheduler ?? systemScheduler }
    this.processTx = new ProcessTxClient(this.node, { ...txInit, maxIdleStreams: init.processTxIdleStreams ?? 16 })
    this.serveTx = new ProcessTxServer({ ...txInit, idleTimeout: init.processTxIdleTimeout ?? PROCESS_TX_IDLE_TIMEOUT }, () => this.server)
  }

  get address (): string {
    if (this.init.address !== undefined) return this.init.address
    const addrs = this.node.getMultiaddrs().map(m => m.toString())
    return addrs.find(m => !m.includes('/ip4/0.0.0.0/')) ?? addrs[0] ?? `/p2p/${this.node.peerId.toString()}`
  }

  /** Registers both protocols; incoming work goes to `server`. chatWithPeer (libp2p's own discovery feeds Chat) is used with chatWithDiscoveredPeers. */
  async start (server: TransportServer): Promise<void> {
    this.server = server
    await this.node.handle(CHAT_PROTOCOL, (stream, connection) => { this.accept(stream, connection) }, { runOnLimitedConnection: true, ...CHAT_STREAM_LIMITS })
    for (const protocol of [PROCESS_TX_STREAM_PROTOCOL, PROCESS_TX_PROTOCOL]) {
      await this.node.handle(protocol, async (stream, connection) => { await this.serveTx.serve(stream, connection) }, { runOnLimitedConnection: true, ...PROCESS_TX_STREAM_LIMITS })
    }
    if (this.init.chatWithDiscoveredPeers === true && server.chatWithPeer !== undefined) {
      const chatWith = server.chatWithPeer.bind(server)
      this.onIdentify = evt => {
        const { protocols, connection, peerId } = evt.detail
        if (connection.direction !== 'outbound' || !protocols.includes(CHAT_PROTOCOL)) return
        void chatWith(withPeerId(connection.remoteAddr, peerId).toString())
      }
      this.node.addEventListener('peer:identify', this.onIdentify)
    }
  }

  async stop (): Promise<void> {
    this.server = undefined
    if (this.onIdentify !== undefined) this.node.removeEventListener('peer:identify', this.onIdentify)
    await this.node.unhandle([CHAT_PROTOCOL, PROCESS_TX_STREAM_PROTOCOL, PROCESS_TX_PROTOCOL])
    this.serveTx.close()
    this.processTx.close()
    await Promise.allSettled([...this.open].map(async s => await s.close()))
  }

  async dialChat (address: string, options: AbortOptions = {}): Promise<ChatStream> {
    const ma = parseAddress(address)
    const connection = await this.node.dial(ma, options)
    const stream = await connection.newStream(CHAT_PROTOCOL, { runOnLimitedConnection: true, signal: options.signal })
    return this.track(stream, connection)
  }

  canDial (address: string): boolean {
    if (!address.startsWith('/')) return false
    try {
      parseAddress(address)
      return true
    } catch {
      return false
    }
  }

  async processTransaction (address: string, tx: Transaction, options: AbortOptions = {}): Promise<Response> {
    return await this.processTx.call(parseAddress(address), tx, options.signal)
  }

  private accept (stream: Stream, connection: Connection): void {
    const server = this.server
    if (server === undefined) {
      stream.abort(new Error('Chat is not being served'))
      return
    }
    // The peer logs how the chat ended; nothing is left to do here.
    server.handleChat(this.track(stream, connection), false).catch(() => {})
  }

  /** Open chats are remembered until closed, so stop() can end them. */
  private track (stream: Stream, connection: Connection): ChatStream {
    const chat: ChatStream = new Libp2pChatStream(stream, connection, this.streamOpts, () => this.open.delete(chat))
    this.open.add(chat)
    return chat
  }
}

/** js-libp2p style factory: init first, then the components. */
export function libp2pChat (init: Libp2pChatInit = {}): (components: Libp2pChatComponents) => Libp2pChat {
  return components => new Libp2pChat(init, components)
}

export function parseAddress (address: string): Multiaddr {
  try {
    return multiaddr(address)
  } catch (err) {
    throw new Error(`${address} is not a libp2p multiaddr: ${(err as Error).message}`)
  }
}

function withPeerId (ma: Multiaddr, peerId: PeerId): Multiaddr {
  return ma.getComponents().some(c => c.name === 'p2p') ? ma : ma.encapsulate(`/p2p/${peerId.toString()}`)
}
