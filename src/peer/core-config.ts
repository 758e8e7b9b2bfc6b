import type { CoreConfig } from '../config/schema.ts'
import type { PeerInit } from './peer-config.ts'

/** Where the peer is reached and whom it dials first: the composition root's to decide from its transports and network. */
export interface PeerPlace {
  address: string
  transportAddresses: Record<string, string>
  rootNodes: string[]
}

/** The peer coordinator's settings from the peer's config (core.yaml peer.*, statetransfer.*). */
export function peerInit (config: CoreConfig, place: PeerPlace): PeerInit {
  const d = config.peer.discovery
  return {
    id: config.peer.id,
    address: place.address,
    transportAddresses: place.transportAddresses,
    validator: config.peer.validator.enabled,
    securityEnabled: config.security.enabled,
    helloTimeout: config.peer.limits.handshakeTimeout,
    sync: {
      blocksChannelSize: config.peer.sync.blocks.channelSize,
      deltasChannelSize: config.peer.sync.state.deltas.channelSize,
      snapshotChannelSize: config.peer.sync.state.snapshot.channelSize,
      snapshotWriteTimeout: config.peer.sync.state.snapshot.writeTimeout
    },
    // statetransfer.blocksperrequest sizes Fabric's verification chunks; Weft asks for blocks as the sync channel holds them.
    stateTransfer: {
      maxDeltas: config.statetransfer.maxdeltas,
      blockTimeout: config.statetransfer.timeout.singleblock,
      deltaTimeout: config.statetransfer.timeout.singlestatedelta,
      snapshotTimeout: config.statetransfer.timeout.fullstate
    },
    discovery: {
      rootNodes: place.rootNodes,
      period: d.period,
      persist: d.persist,
      touchPeriod: d.touchPeriod,
      touchMaxNodes: d.touchMaxNodes,
      limits: { maxNodes: d.maxNodes, expiry: d.expiry, claimBackoff: Math.min(d.expiry, d.touchPeriod > 0 ? d.touchPeriod : 6000), claimRetry: Math.min(d.expiry, d.touchPeriod > 0 ? 10 * d.touchPeriod : 60_000) }
    }
  }
}
