import type { Ledger } from '../ledger/ledger.ts'
import type { PeersMessage } from '../protos/fabric_pb.ts'
import type { ChatDialer } from '../transport/chat-server.ts'
import type { ChatStream } from '../transport/chat-stream.ts'
import { errorMessage } from '../util/errors.ts'
import { createLogger } from '../util/logger.ts'
import { every, type Scheduler } from '../util/scheduler.ts'
import type { Chats } from './chats.ts'
import { DiscoveryList, loadDiscoveryList, storeDiscoveryList } from './discovery.ts'
import type { PeerHandler } from './handler.ts'
import type { HandlerRegistry } from './handler-registry.ts'
import type { PeerConfig } from './peer-config.ts'

const log = createLogger('peer')

/** What discovery works with: the peer's settings, store, dialer, chats and registered handlers. */
export interface DiscoveryHost {
  readonly config: PeerConfig
  readonly ledger: Ledger
  readonly scheduler: Scheduler
  readonly dialer: ChatDialer
  readonly chats: Chats
  readonly handlers: HandlerRegistry
  stopping (): boolean
}

/**
 * Fabric's discovery and touch services: the addresses this peer knows (persisted when
 * peer.discovery.persist), dialling them and the root nodes, and redialling those not connected.
 */
export class DiscoveryService {
  readonly list: DiscoveryList
  /** Addresses being dialled, so a second request does not dial again. */
  private readonly dialing = new Set<string>()
  private stopTouch?: () => void

  constructor (private readonly host: DiscoveryHost) {
    this.list = new DiscoveryList(host.config.discovery.limits)
  }

  /** The stored list, those of its addresses this peer can dial. */
  async load (): Promise<void> {
    let known: string[] = []
    if (this.host.config.discovery.persist) {
      try { known = await loadDiscoveryList(this.host.ledger.cols.persist) } catch (err) { log.error(errorMessage(err)) }
    } else {
      log.warn('Discovery list will not be persisted to disk')
    }
    // A stored address this peer cannot dial (malformed, another transport) is dropped.
    const usable = known.filter(a => this.host.dialer.canDial?.(a) !== false)
    for (const a of usable) this.list.reached(a, this.host.scheduler.now())
    if (usable.length < known.length) {
      log.warn(`Dropped ${known.length - usable.length} undialable address(es) from the stored discovery list`)
      await this.store()
    }
  }

  /** Dials the root nodes and the known peers, and redials them every touch period. */
  start (): void {
    const d = this.host.config.discovery
    this.stopTouch = every(this.host.scheduler, d.touchPeriod, () => this.touch())
    for (const address of [...d.rootNodes, ...this.list.all()]) void this.dial(address)
  }

  stop (): void { this.stopTouch?.() }

  /** Dials `address` and chats there, unless already connected or dialling it. */
  async dial (address: string): Promise<void> {
    const { config, dialer, chats, scheduler } = this.host
    if (address === '' || address === config.address || this.host.stopping() || this.connectedTo(address)) return
    this.dialing.add(address)
    let stream: ChatStream
    try {
      stream = await dialer.dialChat(address)
    } catch (err) {
      log.error(`Error creating connection to peer address ${address}: ${errorMessage(err)}`)
      if (this.list.unreachable(address, scheduler.now())) {
        log.warn(`Forgetting peer address ${address}: unreachable for ${config.discovery.limits.expiry} ms`)
        void this.store()
      }
      return
    } finally {
      this.dialing.delete(address)
    }
    log.debug(`Established Chat with peer address: ${address}`)
    chats.run(stream, true, address).catch(err => log.error(`Ending Chat with peer address ${address} due to error: ${errorMessage(err)}`))
  }

  private connectedTo (address: string): boolean {
    return this.dialing.has(address) || this.host.chats.dialled(address) || this.host.handlers.at(address) !== undefined
  }

  /** Fabric's touch service: redial the root nodes and known peers that are not connected, so start order does not matter. */
  private touch (): void {
    const { config, dialer } = this.host
    const known = [...new Set([...config.discovery.rootNodes, ...this.list.all()])]
    const missing = known.filter(a => a !== config.address && !this.connectedTo(a) && dialer.canDial?.(a) !== false)
    if (missing.length === 0) return
    log.warn('Touch service indicates dropped connections, attempting to reconnect...')
    const max = config.discovery.touchMaxNodes
    for (const a of max >= 0 ? missing.slice(0, max) : missing) void this.dial(a)
  }

  /** A DISC_PEERS answer: dials the peers not connected yet that this peer can reach. */
  peersDiscovered (peers: PeersMessage): void {
    const { config, dialer, handlers, scheduler } = this.host
    for (const ep of peers.peers) {
      const id = ep.ID?.name
      if (id === undefined || id === config.id || handlers.get(id) !== undefined) continue
      // A peer on a transport this one lacks (a host:port heard by a libp2p-only tab): no use dialling it every period.
      if (dialer.canDial?.(ep.address) === false) {
        log.debug(`Not dialling discovered peer ${id} at ${ep.address}: no transport for that address`)
        continue
      }
      // Claimed by another peer: tried, but not kept past its first failed dial.
      if (this.list.claim(ep.address, scheduler.now())) void this.dial(ep.address)
    }
  }

  async peerAnnounced (address: string, from?: PeerHandler): Promise<void> {
    // For a chat this peer opened, remember the address it dialled (a bridge may advertise one of
    // another transport): verified, and persisted. What an inbound HELLO says is only a claim,
    // kept in memory until a dial to it fails.
    const dialled = from !== undefined ? this.host.chats.dialledAddress(from) : address
    if (dialled !== undefined) {
      if (this.list.reached(dialled, this.host.scheduler.now())) await this.store()
    } else if (this.host.dialer.canDial?.(address) !== false) {
      this.list.claim(address, this.host.scheduler.now())
    }
  }

  remoteDisconnected (h: PeerHandler): void {
    const address = h.to() !== undefined ? this.reachAddress(h) : undefined
    if (address !== undefined && this.list.remove(address)) void this.store()
  }

  private async store (): Promise<void> {
    if (!this.host.config.discovery.persist) return
    try {
      await storeDiscoveryList(this.host.ledger.cols.persist, this.list.persisted())
    } catch (err) {
      log.error(`Could not store the discovery list: ${errorMessage(err)}`)
    }
  }

  /**
   * How to reach the peer that says it is at `address`: for a chat this peer opened, the address
   * it dialled. A bridge in a gRPC network says host:port, which a libp2p-only peer (a browser
   * tab) cannot dial, though it reached the bridge at a multiaddr; without this its transactions
   * went nowhere ("… is not a libp2p multiaddr").
   */
  routeTo (address: string): string {
    const h = this.host.handlers.at(address)
    return h === undefined ? address : this.reachAddress(h)
  }

  /** The address this peer dialled for `h`'s chat, else the address the remote gave in its HELLO. */
  private reachAddress (h: PeerHandler): string {
    return this.host.chats.dialledAddress(h) ?? h.to()?.address ?? ''
  }
}
