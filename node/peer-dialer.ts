import type { Response, Transaction } from '../src/protos/fabric_pb.ts'
import type { AbortOptions, ChatDialer } from '../src/transport/chat-server.ts'
import type { ChatStream } from '../src/transport/chat-stream.ts'

/** The transports a Node peer dials with; either may be missing (gRPC-only or libp2p-only peers). */
export interface PeerTransports {
  /** host:port addresses (peer.address, Fabric peers): GrpcChatDialer. */
  grpc?: ChatDialer
  /** multiaddrs (/ip4/…, /dns…/…, /p2p/…): Libp2pChat. */
  libp2p?: ChatDialer
}

const HOST_PORT = /^(?:\[[^\]]*\]|[^/:\s[\]]*):\d+$/

/** Which transport an address names: a multiaddr starts with '/', Fabric's host:port does not. */
export function addressKind (address: string): 'grpc' | 'libp2p' {
  if (address.startsWith('/')) return 'libp2p'
  if (HOST_PORT.test(address)) return 'grpc'
  throw new Error(`cannot dial "${address}": it is neither host:port (gRPC) nor a multiaddr (libp2p)`)
}

/**
 * One ChatDialer over both transports, choosing by the form of each address, so discovery
 * lists and peer.discovery.rootnode may mix Fabric peers (host:port) and libp2p peers.
 */
export function peerDialer (transports: PeerTransports): ChatDialer {
  const pick = (address: string): ChatDialer => {
    const kind = addressKind(address)
    const dialer = transports[kind]
    if (dialer === undefined) throw new Error(`cannot dial ${address}: this peer has no ${kind === 'grpc' ? 'gRPC' : 'libp2p'} transport`)
    return dialer
  }
  return {
    // Lets discovery skip addresses of a transport this peer lacks (a host:port on a libp2p-only peer).
    canDial (address: string): boolean {
      let kind: 'grpc' | 'libp2p'
      try {
        kind = addressKind(address)
      } catch {
        return false
      }
      const dialer = transports[kind]
      return dialer !== undefined && (dialer.canDial?.(address) ?? true)
    },
    async dialChat (address: string, options?: AbortOptions): Promise<ChatStream> {
      return await pick(address).dialChat(address, options)
    },
    async processTransaction (address: string, tx: Transaction, options?: AbortOptions): Promise<Response> {
      return await pick(address).processTransaction(address, tx, options)
    }
  }
}
