// The Node peer's libp2p: TCP and WebSockets listeners, noise, yamux, identify, ping, and a
// circuit-relay-v2 server so browser tabs can reach each other (and be reached) through it.
import { bootstrap } from '@libp2p/bootstrap'
import { circuitRelayServer, circuitRelayTransport, type CircuitRelayService } from '@libp2p/circuit-relay-v2'
import { identify, type Identify } from '@libp2p/identify'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { ping, type Ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2pOptions } from 'libp2p'
import { DEFAULT_LIMITS, overCap, RefusalLog, type ServerLimits } from '../net/connection-guard.ts'

export interface NodeLibp2pOptions {
  /** The peer's identity (its Ed25519 key); a fresh one when omitted. */
  privateKey?: PrivateKey
  /** Listen multiaddrs, e.g. /ip4/127.0.0.1/tcp/7055/ws (peer.libp2p.address) and /ip4/127.0.0.1/tcp/0 (peer.libp2p.listen). */
  listen: string[]
  /** Multiaddrs (with /p2p/<id>) to connect to at start; Chat follows once identify shows they speak it. */
  bootstrap?: string[]
  /** Relay reservations browsers may hold, and the limits of each relayed connection (a Chat is long-lived). */
  relay?: { maxReservations?: number, dataLimit?: bigint, durationLimit?: number }
  /** peer.limits.*: connection caps (in total and per remote address) and the upgrade (noise + yamux) deadline. */
  limits?: ServerLimits
}

export type NodeLibp2p = Libp2p<{ identify: Identify, ping: Ping, relay: CircuitRelayService }>

export async function createNodeLibp2p (opts: NodeLibp2pOptions): Promise<NodeLibp2p> {
  const peerDiscovery: NonNullable<Libp2pOptions['peerDiscovery']> = []
  if (opts.bootstrap !== undefined && opts.bootstrap.length > 0) peerDiscovery.push(bootstrap({ list: opts.bootstrap }))
  const limits = opts.limits ?? DEFAULT_LIMITS
  const refusals = new RefusalLog('libp2p')
  let node: NodeLibp2p | undefined
  node = await createLibp2p({
    privateKey: opts.privateKey,
    connectionManager: {
      maxConnections: limits.maxConnections,
      inboundUpgradeTimeout: limits.handshakeTimeoutMs,
      maxIncomingPendingConnections: Math.min(limits.maxPerAddress, 64)
    },
    connectionGater: {
      denyInboundConnection (maConn) {
        const remote = hostOf(maConn.remoteAddr)
        const open = node?.getConnections() ?? []
        const why = overCap(limits, open.length, open.filter(c => hostOf(c.remoteAddr) === remote).length)
        if (why === undefined) { refusals.admit(remote); return false }
        refusals.refuse(remote, why)
        return true
      }
    },
    addresses: { listen: opts.listen },
    transports: [tcp(), webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery,
    services: {
      identify: identify(),
      ping: ping(),
      relay: circuitRelayServer({
        reservations: {
          maxReservations: opts.relay?.maxReservations ?? 128,
          defaultDataLimit: opts.relay?.dataLimit ?? 1n << 30n,
          defaultDurationLimit: opts.relay?.durationLimit ?? 24 * 60 * 60 * 1000
        }
      })
    }
  })
  closeIdleConnections(node, limits.idleTimeoutMs)
  return node
}

/**
 * Closes connections that have carried no stream for `idleMs` (a Chat or Events stream keeps its
 * connection busy for as long as it lives). A browser's relay reservation is not idle: it is
 * what lets other tabs reach it.
 */
function closeIdleConnections (node: NodeLibp2p, idleMs: number): void {
  const idleSince = new Map<string, number>()
  const sweep = (): void => {
    const now = Date.now()
    const seen = new Set<string>()
    for (const conn of node.getConnections()) {
      seen.add(conn.id)
      if (conn.streams.length > 0 || node.services.relay.reservations.has(conn.remotePeer)) { idleSince.delete(conn.id); continue }
      const since = idleSince.get(conn.id)
      if (since === undefined) idleSince.set(conn.id, now)
      else if (now - since >= idleMs) void conn.close().catch(() => { conn.abort(new Error(`idle for ${idleMs} ms`)) })
    }
    for (const id of idleSince.keys()) if (!seen.has(id)) idleSince.delete(id)
  }
  const timer = setInterval(sweep, Math.max(50, Math.min(idleMs / 4, 10_000)))
  timer.unref()
  node.addEventListener('stop', () => { clearInterval(timer) }, { once: true })
}

/** The IP (or name) of a multiaddr, which the per-address cap counts by. */
function hostOf (addr: Multiaddr): string {
  return addr.getComponents().find(c => ['ip4', 'ip6', 'dns', 'dns4', 'dns6'].includes(c.name))?.value ?? addr.toString()
}
