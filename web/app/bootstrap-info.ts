/**
 * What GET /weft/bootstrap.json answers (node/web serves it; the page reads it): how a browser
 * tab joins the serving peer's network.
 */
export interface BootstrapInfo {
  /** The serving peer's libp2p peer id. */
  peerId: string
  /** Its peer.id (vp0, …). */
  name: string
  /** WebSockets multiaddrs of the serving peer, each ending in /p2p/<peerId>. */
  multiaddrs: string[]
  networkId: string
  /** peer.validator.consensus.plugin of the network (noops or pbft). */
  consensus: string
  securityEnabled: boolean
  /** security.level and security.hashAlgorithm, with security enabled: what the tab's users sign with. */
  security?: { level: number, hashAlgorithm: string }
  /** The state structure every peer of the network must share, or state hashes differ. */
  ledger: { stateStructure: string, numBuckets: number, maxGroupingAtEachLevel: number }
  /** The validating network when a network file lists it (name vpN and libp2p peer id). */
  validators?: Array<{ name: string, peerId?: string }>
}
