import type { Response, Transaction } from '../protos/fabric_pb.ts'
import type { ChatStream } from './chat-stream.ts'

export interface AbortOptions {
  signal?: AbortSignal
}

/**
 * What a transport hands incoming work to: Fabric's Peer service (Chat and ProcessTransaction).
 * The peer coordinator implements it; libp2p, gRPC and memory transports call it.
 */
export interface ChatServer {
  /** Runs the receive loop of one Chat stream until it ends; rejects when it ends with an error. */
  handleChat (stream: ChatStream, initiatedStream: boolean): Promise<void>
  processTransaction (tx: Transaction): Promise<Response>
}

/** The peer as a transport serves it: it may also chat with peers the transport found on its own (libp2p identify). */
export interface TransportServer extends ChatServer {
  /** Dials `address` and chats there, unless already connected or dialling it. */
  chatWithPeer? (address: string): Promise<void>
}

/**
 * How the peer reaches other peers by their PeerEndpoint.address: a libp2p multiaddr
 * (`/ip4/…/ws/p2p/<id>`), a gRPC host:port, or a memory-network name.
 */
export interface ChatDialer {
  dialChat (address: string, options?: AbortOptions): Promise<ChatStream>
  /** Peer.ProcessTransaction on the peer at `address`. */
  processTransaction (address: string, tx: Transaction, options?: AbortOptions): Promise<Response>
  /**
   * Whether this dialer has a transport for an address of that form at all (not whether the peer
   * is up). Discovery skips addresses it cannot reach, instead of failing on them every period (a
   * libp2p-only browser tab hearing of a Fabric peer's host:port). Missing = assume it can.
   */
  canDial? (address: string): boolean
}
