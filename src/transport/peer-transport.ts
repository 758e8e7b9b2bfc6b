import type { Response, Transaction } from '../protos/fabric_pb.ts'
import type { AbortOptions, ChatDialer, TransportServer } from './chat-server.ts'
import type { ChatStream } from './chat-stream.ts'

/**
 * One way a peer reaches others and is reached by them: gRPC host:port, a libp2p multiaddr, a
 * memory-network name. PeerNode dials through every transport it is given and starts and stops
 * them around the peer.
 */
export interface PeerTransport extends ChatDialer {
  /** What this transport's chat streams name as their transport, up to any '/' ('grpc', 'libp2p', 'memory'). */
  readonly name: string
  /** This peer's address on this transport: what a peer reached over it is told to dial back. */
  readonly address: string
  /** Whether an address has this transport's form (not whether anyone answers there). */
  canDial (address: string): boolean
  /** From now on hands the chats and transactions that arrive to `server`. */
  start (server: TransportServer): Promise<void>
  /** Takes no more, and ends the chats it accepted that are still open. */
  stop (): Promise<void>
}

/** The transport of `transports` that dials `address`, if any. */
export function transportFor (transports: readonly PeerTransport[], address: string): PeerTransport | undefined {
  return transports.find(t => t.canDial(address))
}

/**
 * One ChatDialer over several transports: each address goes to the first that can dial it, so
 * discovery lists and root nodes may mix Fabric peers (host:port) and libp2p peers.
 */
export function transportDialer (transports: readonly PeerTransport[]): ChatDialer {
  const pick = (address: string): PeerTransport => {
    const t = transportFor(transports, address)
    if (t === undefined) throw new Error(`cannot dial ${address}: no transport of this peer (${transports.map(x => x.name).join(', ') || 'none'}) reaches that address`)
    return t
  }
  return {
    canDial: address => transportFor(transports, address) !== undefined,
    async dialChat (address: string, options?: AbortOptions): Promise<ChatStream> {
      return await pick(address).dialChat(address, options)
    },
    async processTransaction (address: string, tx: Transaction, options?: AbortOptions): Promise<Response> {
      return await pick(address).processTransaction(address, tx, options)
    }
  }
}
