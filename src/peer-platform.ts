import type { ChaincodeRuntime } from './chaincode/runtime.ts'
import type { SecurityUtils } from './consensus/interfaces.ts'
import type { ValidatorEntry } from './consensus/validators.ts'
import type { MessageSigner } from './peer/security.ts'
import type { MemberKeystore, NodeSecurity } from './security/member.ts'
import type { ChaincodeSpec } from './protos/chaincode_pb.ts'
import type { KVStore } from './storage/kv.ts'
import type { PeerTransport } from './transport/peer-transport.ts'
import type { Logger } from './util/logger.ts'
import type { Random, Scheduler } from './util/scheduler.ts'

/**
 * Who this peer is, as security needs it. The edge builds it from its own key and network file
 * (node/peer/identity.ts, web/app/browser-peer.ts); no key format reaches src/.
 */
export interface PeerIdentity {
  /** Signs this peer's Chat messages; its pkiID goes out in HELLO. Needed with security.enabled. */
  signer?: MessageSigner
  /** Signs and checks PBFT's view-change messages; default: unsigned, as Fabric without security. */
  consensusSecurity?: SecurityUtils
  /**
   * The validating network (a network file, a bootstrap document): names, libp2p peer ids and
   * where to reach them. Without it PBFT's validators are vp0 … vp(N-1), and noops takes any peer.
   */
  validators?: ValidatorEntry[]
}

/** What an edge (node/, web/, the simulation, a test) gives a peer to run on. */
export interface PeerPlatform {
  /** The opened store (LevelDB, IndexedDB, memory); the node closes it when it stops. */
  store: KVStore
  /**
   * How this peer reaches others and is reached (gRPC, libp2p, memory). The peer is known by the
   * address of the first one that can dial its first root node, else of the first one.
   */
  transports: PeerTransport[]
  scheduler: Scheduler
  random: Random
  /** Where deployed (network-mode) chaincode runs: worker_threads, Web Worker, in-process. */
  chaincodeRuntime?: ChaincodeRuntime
  /** The code package of a NODE chaincode spec (its chaincodeID.path names the code). */
  packageChaincode?: (spec: ChaincodeSpec) => Promise<Uint8Array>
  identity?: PeerIdentity
  /**
   * With security.enabled, this peer enrolled with membership services: it signs with its
   * enrollment key, checks transactions' certificates and signatures, and signs for users.
   * Without it a security-enabled peer signs with `identity` and no user can log in.
   */
  security?: NodeSecurity
  /**
   * With security.enabled but no enrollment of its own (a browser tab): the users it signs for,
   * kept by the edge. Ignored when `security` is given (its keystore holds the users).
   */
  users?: MemberKeystore
  /** Where the node's own lines go (start, stop, failures); default the `peer-node` logger. */
  logger?: Logger
}
