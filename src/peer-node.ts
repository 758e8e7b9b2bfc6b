import { create } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import { executeQuery, executeTransactions } from './chaincode/executor.ts'
import { nodeDeploymentSpec } from './chaincode/package.ts'
import type { ChaincodeRuntime } from './chaincode/runtime.ts'
import { ChaincodeSupport } from './chaincode/support.ts'
import { newDeployTransaction, newExecuteTransaction } from './chaincode/transactions.ts'
import type { CoreConfig } from './config/schema.ts'
import { fromUtf8, toHex } from './crypto/bytes.ts'
import { consensusInit } from './consensus/core-config.ts'
import { ConsensusEngine } from './consensus/engine.ts'
import type { TimerService } from './consensus/events/timers.ts'
import { StateTransferError, type SecurityUtils } from './consensus/interfaces.ts'
import { replicaName, ValidatorSet, type ValidatorEntry } from './consensus/validators.ts'
import { EventHub } from './events/hub.ts'
import { TxWaiter } from './events/tx-waiter.ts'
import { Ledger, makeGenesis } from './ledger/ledger.ts'
import type { PeerApi, SubmitOptions } from './peer-api.ts'
import { newPeerHandler } from './peer/handler.ts'
import { createPeer, type Peer } from './peer/peer.ts'
import type { MessageSigner } from './peer/security.ts'
import { systemTimers, type Random, type Timers } from './peer/timers.ts'
import { ChaincodeDeploymentSpecSchema, ChaincodeSpec_Type, type ChaincodeDeploymentSpec, type ChaincodeInvocationSpec, type ChaincodeSpec } from './protos/chaincode_pb.ts'
import { Response_StatusCode, Transaction_Type, type PeerEndpoint, type Response, type Transaction } from './protos/fabric_pb.ts'
import { ServerStatus_StatusCode } from './protos/server_admin_pb.ts'
import type { KVStore } from './storage/kv.ts'
import type { ChatDialer } from './transport/chat-server.ts'
import { systemClock, type Clock } from './util/clock.ts'
import { createLogger } from './util/logger.ts'

const log = createLogger('peer-node')

/** What a platform edge (node/, web/, a test) plugs into a peer. */
export interface PeerNodePlatform {
  /** The opened store (LevelDB, IndexedDB, memory); the node closes it when it stops. */
  store: KVStore
  /** Reaches other peers by their address (libp2p multiaddr, gRPC host:port, memory name). */
  dialer: ChatDialer
  /** This peer's PeerEndpoint.address as others reach it. */
  address: string
  /** Per-transport addresses when they differ (a bridge: host:port for gRPC peers, multiaddr for libp2p ones). */
  transportAddresses?: { grpc?: string, libp2p?: string }
  /** Where deployed (network-mode) chaincode runs: worker_threads, Web Worker, in-process. */
  chaincodeRuntime?: ChaincodeRuntime
  /** The code package of a NODE chaincode spec (its chaincodeID.path names the code). */
  packageChaincode?: (spec: ChaincodeSpec) => Promise<Uint8Array>
  /** The validating network (names vpN and libp2p peer ids); default: any peer may validate (noops). */
  validators?: ValidatorEntry[]
  signer?: MessageSigner
  /** Signs and checks PBFT's view-change messages (security.enabled); default: unsigned, as Fabric without security. */
  consensusSecurity?: SecurityUtils
  clock?: Clock
  timers?: Timers
  random?: Random
  /** A new transaction id (Fabric uses a UUID). */
  newTxid?: () => string
  /** Consensus met a condition it cannot survive: the platform should stop the peer. */
  onFatal?: (err: Error) => void
}

/**
 * One Fabric peer, whatever runs it (Fabric's serve() minus the servers): ledger, event hub,
 * chaincode support, the peer coordinator and, on a validator, the consensus engine. It is the
 * PeerApi the REST, gRPC and in-page surfaces call.
 */
export class PeerNode implements PeerApi {
  private state = ServerStatus_StatusCode.UNDEFINED
  private stopping?: Promise<void>
  private readonly stopListeners = new Set<() => void>()
  private readonly waiter: TxWaiter

  private constructor (
    readonly config: CoreConfig,
    readonly ledger: Ledger,
    readonly hub: EventHub,
    readonly support: ChaincodeSupport,
    readonly peer: Peer,
    readonly engine: ConsensusEngine | undefined,
    private readonly platform: PeerNodePlatform,
    private readonly clock: Clock,
    timers: Timers,
    private readonly rejections: Set<(txid: string, error: string) => void>
  ) {
    this.waiter = new TxWaiter({
      onBlock: l => ledger.onBlock(l),
      onRejection: l => { rejections.add(l); return () => rejections.delete(l) },
      blockOf: async txid => (await ledger.chain.txLocation(txid))?.block,
      timers
    })
  }

  static async create (config: CoreConfig, platform: PeerNodePlatform): Promise<PeerNode> {
    const clock = platform.clock ?? systemClock
    const timers = platform.timers ?? systemTimers
    const random = platform.random ?? Math.random
    const validator = config.peer.validator.enabled
    const structure = config.ledger.state.dataStructure
    if (structure.name === 'trie') throw new Error('ledger.state.dataStructure.name "trie" is not supported by Weft: use buckettree (Fabric\'s default) or raw')
    const ledger = await Ledger.open(platform.store, {
      stateStructure: structure.name,
      numBuckets: structure.configs.numBuckets,
      maxGroupingAtEachLevel: structure.configs.maxGroupingAtEachLevel,
      deltaHistorySize: config.ledger.state.deltaHistorySize,
      clock
    })
    if (validator) await makeGenesis(ledger)
    const hub = new EventHub({ bufferSize: config.peer.validator.events.buffersize, timeoutMs: config.peer.validator.events.timeout })
    hub.attachLedger(ledger)
    const support = new ChaincodeSupport({
      ledger,
      userRunsChaincode: config.chaincode.mode === 'dev',
      runtime: platform.chaincodeRuntime,
      startupTimeout: config.chaincode.startuptimeout,
      keepalive: config.chaincode.keepalive * 1000,
      timers,
      networkId: config.peer.networkId,
      peerId: config.peer.id
    })
    const d = config.peer.discovery
    const peer = createPeer({
      id: config.peer.id,
      address: platform.address,
      transportAddresses: platform.transportAddresses,
      validator,
      securityEnabled: config.security.enabled,
      helloTimeout: config.peer.limits.handshakeTimeout,
      sync: {
        blocksChannelSize: config.peer.sync.blocks.channelSize,
        deltasChannelSize: config.peer.sync.state.deltas.channelSize,
        snapshotChannelSize: config.peer.sync.state.snapshot.channelSize,
        snapshotWriteTimeout: config.peer.sync.state.snapshot.writeTimeout
      },
      discovery: {
        rootNodes: d.rootnode.split(',').map(s => s.trim()).filter(s => s !== ''),
        period: d.period,
        persist: d.persist,
        touchPeriod: d.touchPeriod,
        touchMaxNodes: d.touchMaxNodes,
        limits: { maxNodes: d.maxNodes, expiry: d.expiry, claimBackoff: Math.min(d.expiry, d.touchPeriod > 0 ? d.touchPeriod : 6000), claimRetry: Math.min(d.expiry, d.touchPeriod > 0 ? 10 * d.touchPeriod : 60_000) }
      }
    }, { ledger, dialer: platform.dialer, clock, timers, random, signer: platform.signer })

    let engine: ConsensusEngine | undefined
    const rejections = new Set<(txid: string, error: string) => void>()
    if (validator) {
      const ctx = {
        support,
        onRejection: (tx: Transaction, error: string) => {
          hub.publishRejection(tx, error)
          for (const l of rejections) l(tx.txid, error)
        }
      }
      // Without a network file, PBFT's validators are Fabric's: vp0 … vp(N-1), known by the names their HELLOs give.
      const listed = platform.validators ?? (config.peer.validator.consensus.plugin === 'pbft'
        ? Array.from({ length: config.pbft.general.N }, (_, i) => ({ name: replicaName(i) }))
        : undefined)
      const validators = new ValidatorSet(config.peer.id, listed ?? [{ name: config.peer.id }], listed === undefined)
      engine = await ConsensusEngine.create(consensusInit(config), {
        ledger,
        validators,
        communicator: {
          broadcast: async (msg, type) => {
            const errors = await peer.broadcast(msg, type)
            for (const e of errors) log.warn(`broadcast: ${e.message}`)
          },
          unicast: (msg, receiver) => peer.unicast(msg, receiver)
        },
        executeTransactions: txs => executeTransactions(ctx, txs),
        stateTransfer: {
          async syncToTarget (blockNumber, blockHash, peers, signal) {
            const r = await peer.syncToTarget(blockNumber, blockHash, peers, signal)
            if (!r.ok) throw new StateTransferError(r.error.message, r.recoverable, { cause: r.error })
          }
        },
        query: tx => executeQuery(ctx, tx),
        security: platform.consensusSecurity,
        timers: timerService(clock, timers),
        random,
        onFatal: platform.onFatal
      })
      const e = engine
      peer.useEngine({
        processTransaction: tx => e.processTransaction(tx),
        getHandlerFactory: () => e.handlerFactory(newPeerHandler)
      })
    }
    return new PeerNode(config, ledger, hub, support, peer, engine, platform, clock, timers, rejections)
  }

  async start (): Promise<void> {
    this.engine?.start()
    await this.peer.start()
    this.state = ServerStatus_StatusCode.STARTED
    const info = await this.ledger.getBlockchainInfo()
    log.info(`Started peer ${this.config.peer.id} (${this.config.peer.validator.enabled ? `validator, ${this.config.peer.validator.consensus.plugin}` : 'non-validator'}) at ${this.platform.address}, height ${info.height}`)
  }

  /** Stops in the order that never tears a block: no new chats, consensus (finishing its batch), chaincode, events, ledger. */
  stop (): Promise<void> {
    this.stopping ??= (async () => {
      this.state = ServerStatus_StatusCode.STOPPED
      this.waiter.close()
      await this.peer.stop()
      await this.engine?.stop()
      await this.support.stopAll()
      this.hub.close()
      await this.ledger.close()
      for (const l of this.stopListeners) l()
      log.info(`Stopped peer ${this.config.peer.id}`)
    })()
    return this.stopping
  }

  /** Called once the node has stopped (Admin.StopServer, a fatal consensus error, or stop()). */
  onStop (listener: () => void): () => void {
    this.stopListeners.add(listener)
    return () => this.stopListeners.delete(listener)
  }

  // --- PeerApi: reads ---

  getBlockchainInfo () { return this.ledger.getBlockchainInfo() }

  async getBlockByNumber (n: bigint) {
    return n > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : await this.ledger.getBlockByNumber(Number(n))
  }

  getTransactionByID (txid: string) { return this.ledger.getTransactionByID(txid) }

  async getPeers () { return this.peer.getPeers() }

  async getPeerEndpoint (): Promise<PeerEndpoint> { return this.peer.getPeerEndpoint() }

  status (): ServerStatus_StatusCode { return this.state }

  // --- PeerApi: Devops ---

  /** Devops.Build: in dev mode the spec as given; a NODE spec outside dev mode gets its package and derived name. */
  async build (spec: ChaincodeSpec): Promise<ChaincodeDeploymentSpec> {
    if (this.config.chaincode.mode === 'dev' || spec.type !== ChaincodeSpec_Type.NODE) {
      if (this.config.chaincode.mode !== 'dev' && this.platform.chaincodeRuntime?.supports(spec) !== true) {
        throw new Error(`chaincode type ${ChaincodeSpec_Type[spec.type] ?? spec.type} cannot run on this peer outside dev mode (use NODE chaincode, or start the peer with --peer-chaincodedev)`)
      }
      return create(ChaincodeDeploymentSpecSchema, { chaincodeSpec: spec })
    }
    if (this.platform.packageChaincode === undefined) throw new Error('this peer cannot package chaincode from a path')
    const codePackage = await this.platform.packageChaincode(spec)
    const cds = nodeDeploymentSpec(codePackage, spec.ctorMsg?.args ?? [])
    return cds
  }

  async deploy (spec: ChaincodeSpec, opts: SubmitOptions = {}): Promise<ChaincodeDeploymentSpec> {
    const cds = await this.build(spec)
    const name = cds.chaincodeSpec?.chaincodeID?.name ?? ''
    if (name === '') throw new Error('name not given for deploy')
    // As Fabric, the deploy transaction's id is the chaincode name.
    await this.submit(newDeployTransaction(cds, name, this.now()), opts)
    return cds
  }

  async invoke (cis: ChaincodeInvocationSpec, opts: SubmitOptions = {}): Promise<Response> {
    if ((cis.chaincodeSpec?.chaincodeID?.name ?? '') === '') throw new Error('name not given for invoke/query')
    return await this.submit(newExecuteTransaction(cis, this.newTxid(), Transaction_Type.CHAINCODE_INVOKE, this.now()), opts)
  }

  /**
   * Resolves with the number of the block holding `txid` once it is in the chain; rejects with
   * a TransactionFailedError when this peer (a validator) rejects it, or after `timeoutMs`.
   */
  waitForTransaction (txid: string, timeoutMs: number): Promise<number> {
    return this.waiter.waitFor(txid, timeoutMs)
  }

  /** Hands a transaction to the peer; with `waitMs`, answers only once it is in a block (or rejected). */
  private async submit (tx: Transaction, opts: SubmitOptions): Promise<Response> {
    const committed = opts.waitMs === undefined ? undefined : this.waiter.waitFor(tx.txid, opts.waitMs)
    // Without a wait a rejection later is nobody's error here.
    committed?.catch(() => {})
    const resp = await this.peer.executeTransaction(tx)
    if (resp.status === Response_StatusCode.FAILURE) throw new Error(fromUtf8(resp.msg))
    if (committed !== undefined) await committed
    return resp
  }

  async query (cis: ChaincodeInvocationSpec): Promise<Response> {
    if ((cis.chaincodeSpec?.chaincodeID?.name ?? '') === '') throw new Error('name not given for invoke/query')
    const resp = await this.peer.executeTransaction(newExecuteTransaction(cis, this.newTxid(), Transaction_Type.CHAINCODE_QUERY, this.now()))
    if (resp.status === Response_StatusCode.FAILURE) throw new Error(fromUtf8(resp.msg))
    return resp
  }

  processTransaction (tx: Transaction): Promise<Response> { return this.peer.processTransaction(tx) }

  private now () { return timestampFromMs(this.clock.now()) }

  private newTxid (): string {
    if (this.platform.newTxid !== undefined) return this.platform.newTxid()
    // A version-4 UUID from the injected randomness, so simulations stay reproducible.
    const random = this.platform.random ?? Math.random
    const bytes = Uint8Array.from({ length: 16 }, () => Math.floor(random() * 256))
    bytes[6] = (bytes[6] & 0x0f) | 0x40
    bytes[8] = (bytes[8] & 0x3f) | 0x80
    const h = toHex(bytes)
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
  }
}

/** The consensus layer's time source over the peer's clock and timers. */
function timerService (clock: Clock, timers: Timers): TimerService {
  return {
    now: () => clock.now(),
    schedule (delayMs, fn) {
      const h = timers.setTimeout(fn, Math.max(0, delayMs))
      return { cancel: () => timers.clearTimeout(h) }
    }
  }
}

export function createPeerNode (config: CoreConfig, platform: PeerNodePlatform): Promise<PeerNode> {
  return PeerNode.create(config, platform)
}
