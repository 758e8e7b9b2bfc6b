import { defaultDiscoveryLimits, type DiscoveryLimits } from './discovery.ts'
import type { SyncConfig } from './handler.ts'
import { defaultStateTransferConfig, type StateTransferConfig } from './state-transfer.ts'

/** core.yaml peer.discovery.* */
export interface DiscoveryConfig {
  /** peer.discovery.rootnode, split at commas: addresses dialled at start. */
  rootNodes: string[]
  /** How often each chat asks its peer for the peers it knows (ms). */
  period: number
  /** Keep the discovery list in the ledger's store across restarts. */
  persist: boolean
  /** How often to redial known peers that are not connected (ms; 0 = never). */
  touchPeriod: number
  /** At most this many redials per touch (-1 = no limit). */
  touchMaxNodes: number
  /** How many addresses discovery keeps, and when it forgets one. */
  limits: DiscoveryLimits
}

export interface PeerInit {
  /**
   * peer.id: this peer's name, PeerEndpoint.ID.name, the key handlers are registered under
   * (vp0, vp1, … for validators, as PBFT numbers replicas by it).
   */
  id: string
  /**
   * Where others reach this peer, PeerEndpoint.address, what discovery stores and dials. Over
   * libp2p it is a multiaddr ending in /p2p/<libp2p peer id> (a browser without listen
   * addresses gives just /p2p/<id>); over gRPC it is peer.address (host:port). With security
   * on, PeerEndpoint.pkiID is the raw public key of the same libp2p key, which the peer id
   * is derived from.
   */
  address: string
  /**
   * Where this peer is reached over each transport, by transport name ('grpc', 'libp2p',
   * 'memory'), when that differs from `address`: a Node peer bridging a gRPC network and libp2p
   * peers tells gRPC peers its host:port and libp2p peers its multiaddr, so each side gets an
   * address it can dial.
   */
  transportAddresses?: Record<string, string>
  /** peer.validator.enabled */
  validator: boolean
  /** security.enabled: every message signed and verified (needs a signer). Off by default, as Fabric. */
  securityEnabled?: boolean
  discovery?: Partial<DiscoveryConfig>
  sync?: Partial<SyncConfig>
  stateTransfer?: Partial<StateTransferConfig>
  /**
   * Keep up with the chain unaided: follow SYNC_BLOCK_ADDED, and catch up with the highest chain
   * among connected peers whenever behind. Default: non-validators only (consensus drives validators).
   */
  catchUp?: boolean
  /** A chat whose remote has not said DISC_HELLO this long (ms) is ended (peer.limits.handshakeTimeout; 0 = wait forever). Default 10 s. */
  helloTimeout?: number
}

export interface PeerConfig {
  id: string
  address: string
  transportAddresses: Record<string, string>
  validator: boolean
  securityEnabled: boolean
  discovery: DiscoveryConfig
  sync: SyncConfig
  stateTransfer: StateTransferConfig
  catchUp: boolean
  helloTimeout: number
}

export function peerConfig (init: PeerInit): PeerConfig {
  if (init.id === '') throw new Error('peer.id must not be empty')
  const sync: SyncConfig = {
    blocksChannelSize: 10,
    deltasChannelSize: 20,
    snapshotChannelSize: 50,
    snapshotWriteTimeout: 60_000,
    ...init.sync
  }
  for (const [k, v] of Object.entries(sync)) if (!(v > 0)) throw new Error(`peer.sync ${k} must be greater than 0, got ${v}`)
  const stateTransfer: StateTransferConfig = {
    ...defaultStateTransferConfig,
    // Fabric asks for as many blocks / deltas at once as the receiving channel holds.
    blocksPerRequest: sync.blocksChannelSize,
    deltasPerRequest: sync.deltasChannelSize,
    ...init.stateTransfer
  }
  if (stateTransfer.blocksPerRequest > sync.blocksChannelSize || stateTransfer.deltasPerRequest > sync.deltasChannelSize) {
    throw new Error('state transfer must not ask for more blocks or deltas at once than the sync channels hold')
  }
  return {
    id: init.id,
    address: init.address,
    transportAddresses: init.transportAddresses ?? {},
    validator: init.validator,
    securityEnabled: init.securityEnabled ?? false,
    discovery: { rootNodes: [], period: 5000, persist: true, touchPeriod: 6000, touchMaxNodes: 100, limits: defaultDiscoveryLimits, ...init.discovery },
    sync,
    stateTransfer,
    catchUp: init.catchUp ?? !init.validator,
    helloTimeout: init.helloTimeout ?? 10_000
  }
}
