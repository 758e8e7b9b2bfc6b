import { create } from '@bufbuild/protobuf'
import type { ChaincodeStream } from './chaincode/stream.ts'
import type { ChaincodeSupport } from './chaincode/support.ts'
import type { CoreConfig } from './config/schema.ts'
import { utf8 } from './crypto/bytes.ts'
import { EventHub } from './events/hub.ts'
import { serveEventStream, type EventStream } from './events/session.ts'
import { TxWaiter } from './events/tx-waiter.ts'
import { Ledger, makeGenesis, type CommittedBlock } from './ledger/ledger.ts'
import type { PeerApi, SubmitOptions, TransactionStatus } from './peer-api.ts'
import { peerChaincode } from './peer-node/chaincode.ts'
import { pbftNetwork, ValidatorConsensus, type ConsensusStatus } from './peer-node/consensus.ts'
import { Devops } from './peer-node/devops.ts'
import { PeerCounters, type PeerMetrics } from './peer-node/metrics.ts'
import { Rejections } from './peer-node/rejections.ts'
import { chainHead, connections, type ChainHead, type PeerConnection } from './peer-node/status.ts'
import type { PeerPlatform } from './peer-platform.ts'
import { peerInit } from './peer/core-config.ts'
import { createPeer, type Peer } from './peer/peer.ts'
import type { ChaincodeDeploymentSpec, ChaincodeInvocationSpec, ChaincodeSpec } from './protos/chaincode_pb.ts'
import type { Event, Interest } from './protos/events_pb.ts'
import { ResponseSchema, Response_StatusCode, type PeerEndpoint, type Response, type Transaction } from './protos/fabric_pb.ts'
import { ServerStatus_StatusCode } from './protos/server_admin_pb.ts'
import type { NodeSecurity } from './security/member.ts'
import { EnrollmentSigning } from './security/node-signing.ts'
import { preValidateTransaction } from './security/transactions.ts'
import { Users } from './security/users.ts'
import { transportDialer, transportFor } from './transport/peer-transport.ts'
import { errorMessage } from './util/errors.ts'
import { createLogger, type Logger } from './util/logger.ts'

/**
 * One Fabric peer, whatever runs it, and the only place one is put together (Fabric's serve()
 * minus the servers): ledger, event hub, chaincode support, the peer coordinator on the
 * platform's transports and, on a validator, the consensus engine. It owns the policies every
 * platform shares (genesis, validator set, start and stop order, block announcements) and is
 * the PeerApi the REST, gRPC and in-page surfaces call; edges use only its named methods.
 */
export class PeerNode implements PeerApi {
  private state = ServerStatus_StatusCode.UNDEFINED
  private starting?: Promise<void>
  private stopping?: Promise<void>
  private readonly stopListeners = new Set<(reason?: Error) => void>()
  private readonly waiter: TxWaiter
  private readonly devops: Devops

  private constructor (
    /** The config in force: the one given, with the PBFT network (N, f) a validator list implies. */
    readonly config: CoreConfig,
    private readonly platform: PeerPlatform,
    private readonly log: Logger,
    private readonly ledger: Ledger,
    private readonly hub: EventHub,
    private readonly support: ChaincodeSupport,
    private readonly peer: Peer,
    /** A validator's; undefined on a non-validator. */
    private readonly consensus: ValidatorConsensus | undefined,
    private readonly rejections: Rejections,
    private readonly counters: PeerCounters,
    /** security.enabled with membership services: this peer's enrollment, and how it checks transactions. */
    private readonly security: NodeSecurity | undefined,
    readonly users: Users | undefined
  ) {
    this.waiter = new TxWaiter({
      onBlock: l => ledger.onBlock(l),
      onRejection: l => rejections.onRejection(l),
      blockOf: async txid => (await ledger.chain.txLocation(txid))?.block,
      scheduler: platform.scheduler
    })
    this.devops = new Devops(config, platform, users, peer, this.waiter)
  }

  static async create (given: CoreConfig, platform: PeerPlatform): Promise<PeerNode> {
    const log = platform.logger ?? createLogger('peer-node')
    const { scheduler, random, transports } = platform
    const listed = platform.identity?.validators
    const config = pbftNetwork(given, listed, log)
    const security = config.security.enabled ? platform.security : undefined
    const signing = security === undefined ? undefined : new EnrollmentSigning(security)
    const validator = config.peer.validator.enabled
    if (transports.length === 0) throw new Error('a peer needs at least one transport')
    const structure = config.ledger.state.dataStructure
    if (structure.name === 'trie') throw new Error('ledger.state.dataStructure.name "trie" is not supported by Weft: use buckettree (Fabric\'s default) or raw')
    const ledger = await Ledger.open(platform.store, {
      stateStructure: structure.name,
      numBuckets: structure.configs.numBuckets,
      maxGroupingAtEachLevel: structure.configs.maxGroupingAtEachLevel,
      deltaHistorySize: config.ledger.state.deltaHistorySize,
      scheduler
    })
    // Fabric's rule: a validator starts the chain; a non-validator follows the network's, block 0 included, by sync.
    if (validator) await makeGenesis(ledger)
    const hub = new EventHub({ bufferSize: config.peer.validator.events.buffersize, timeoutMs: config.peer.validator.events.timeout, scheduler })
    hub.attachLedger(ledger)
    const chaincode = peerChaincode(config, platform, ledger, security)
    // The other validators of the network, where listed with an address, are dialled as root nodes are.
    const rootNodes = [
      ...config.peer.discovery.rootnode.split(',').map(s => s.trim()).filter(s => s !== ''),
      ...(listed ?? []).filter(v => v.name !== config.peer.id && v.address !== undefined).map(v => v.address!)
    ]
    // Known by the address of the transport its network uses (a gRPC network names host:port root nodes).
    const known = (rootNodes.length > 0 ? transportFor(transports, rootNodes[0]) : undefined) ?? transports[0]
    const peer = createPeer(peerInit(config, {
      address: known.address,
      transportAddresses: Object.fromEntries(transports.map(t => [t.name, t.address])),
      rootNodes
    }), { ledger, dialer: transportDialer(transports), scheduler, random, signer: signing ?? platform.identity?.signer })

    let node: PeerNode | undefined
    const rejections = new Rejections(hub, scheduler)
    const counters = new PeerCounters(ledger, scheduler)
    const consensus = validator
      ? await ValidatorConsensus.create({
        config,
        platform,
        log,
        ledger,
        peer,
        chaincode,
        security: security === undefined || signing === undefined ? undefined : { node: security, signing },
        onRejection: rejections.report,
        observer: counters.observer,
        // Fabric panics; this peer stops, and its edge hears why.
        onFatal: err => { void node?.fail(err) }
      })
      : undefined
    const userKeys = security?.keystore ?? (config.security.enabled ? platform.users : undefined)
    const users = userKeys === undefined ? undefined : new Users(userKeys)
    node = new PeerNode(config, platform, log, ledger, hub, chaincode.support, peer, consensus, rejections, counters, security, users)
    return node
  }

  /** Consensus first (it must take what the first chats bring), then the transports, then the peer dials out. */
  start (): Promise<void> {
    this.starting ??= (async () => {
      this.consensus?.engine.start()
      for (const t of this.platform.transports) await t.start(this.peer)
      await this.peer.start()
      this.state = ServerStatus_StatusCode.STARTED
      const { address } = this.peer.getPeerEndpoint()
      this.log.info(`Started peer ${this.config.peer.id} (${this.config.peer.validator.enabled ? `validator, ${this.config.peer.validator.consensus.plugin}` : 'non-validator'}) at ${address}, height ${this.ledger.height}`)
    })()
    return this.starting
  }

  /**
   * Stops in the order that never tears a block and leaves no chat open: DISC_DISCONNECT to
   * every peer and every chat ended while the transports still carry them, then the transports,
   * consensus (finishing its batch), chaincode, events and the ledger.
   */
  stop (): Promise<void> {
    return this.halt()
  }

  private async fail (err: Error): Promise<void> {
    this.log.error(`consensus failed: ${errorMessage(err)}; stopping`)
    await this.halt(err)
  }

  private halt (reason?: Error): Promise<void> {
    this.stopping ??= (async () => {
      this.state = ServerStatus_StatusCode.STOPPED
      this.waiter.close()
      const steps: Array<[string, () => Promise<void> | void]> = [
        ['chats', () => this.peer.stop()],
        ...[...this.platform.transports].reverse().map((t): [string, () => Promise<void>] => [`${t.name} transport`, () => t.stop()]),
        ['consensus', () => this.consensus?.engine.stop()],
        ['chaincode', () => this.support.stopAll()],
        ['events', () => this.hub.close()],
        ['ledger', () => { this.counters.stop(); return this.ledger.close() }]
      ]
      for (const [what, step] of steps) {
        try { await step() } catch (err) { this.log.error(`stopping the ${what}: ${errorMessage(err)}`) }
      }
      for (const l of this.stopListeners) l(reason)
      this.log.info(`Stopped peer ${this.config.peer.id}`)
    })()
    return this.stopping
  }

  /** Called once the node has stopped (Admin.StopServer, stop(), or with the reason: a fatal consensus error). */
  onStop (listener: (reason?: Error) => void): () => void {
    this.stopListeners.add(listener)
    return () => this.stopListeners.delete(listener)
  }

  // --- the chain ---

  getBlockchainInfo () { return this.ledger.getBlockchainInfo() }

  async getBlockByNumber (n: bigint) {
    return n > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : await this.ledger.getBlockByNumber(Number(n))
  }

  getTransactionByID (txid: string) { return this.ledger.getTransactionByID(txid) }

  /** A block wins over a remembered rejection (a deploy's txid is its chaincode's name, and may be tried again). */
  async transactionStatus (txid: string): Promise<TransactionStatus> {
    const at = await this.ledger.chain.txLocation(txid)
    if (at !== undefined) return { status: 'committed', block: at.block }
    const r = this.rejections.get(txid)
    return r === undefined ? { status: 'unknown' } : { status: 'rejected', ...r }
  }

  /** Blocks in the local chain. */
  get height (): number { return this.ledger.height }

  head (): Promise<ChainHead> { return chainHead(this.ledger) }

  /** Every block written (committed here, or received by sync); returns the unsubscribe function. */
  onBlock (listener: (b: CommittedBlock) => void): () => void { return this.ledger.onBlock(listener) }

  // --- peers ---

  async getPeers () { return this.peer.getPeers() }

  async getPeerEndpoint (): Promise<PeerEndpoint> { return this.peer.getPeerEndpoint() }

  connections (): PeerConnection[] { return connections(this.peer) }

  /** Dials `address` and chats there, unless already connected or dialling it. */
  connect (address: string): Promise<void> { return this.peer.chatWithPeer(address) }

  status (): ServerStatus_StatusCode { return this.state }

  // --- consensus ---

  /** Undefined on a non-validator. */
  consensusStatus (): ConsensusStatus | undefined { return this.consensus?.status(this.connections()) }

  /**
   * Asks PBFT for the next view, as a replica does when its request timer says the primary has
   * failed. False on a peer that runs no PBFT.
   */
  requestViewChange (): boolean { return this.consensus?.requestViewChange() ?? false }

  // --- what the edges' servers hand the node ---

  /** One Events.Chat conversation (gRPC Events service, /weft/events over libp2p) until it ends. */
  serveEvents (stream: EventStream): Promise<void> { return serveEventStream(this.hub, stream) }

  /** An in-process event consumer with the same filters as a remote one; returns the function that removes it. */
  subscribeEvents (interests: Interest[], listener: (ev: Event) => void | Promise<void>, name?: string): () => void {
    return this.hub.subscribe(interests, listener, name)
  }

  /** A chaincode's ChaincodeSupport.Register stream (dev mode: chaincodes the user starts). */
  serveChaincode (stream: ChaincodeStream): Promise<void> { return this.support.handleStream(stream) }

  metrics (): PeerMetrics { return this.counters.metrics(this.hub, this.peer.peerIDs().length) }

  // --- Devops ---

  build (spec: ChaincodeSpec): Promise<ChaincodeDeploymentSpec> { return this.devops.build(spec) }
  deploy (spec: ChaincodeSpec, opts?: SubmitOptions): Promise<ChaincodeDeploymentSpec> { return this.devops.deploy(spec, opts) }
  invoke (cis: ChaincodeInvocationSpec, opts?: SubmitOptions): Promise<Response> { return this.devops.invoke(cis, opts) }
  query (cis: ChaincodeInvocationSpec): Promise<Response> { return this.devops.query(cis) }

  /**
   * Resolves with the number of the block holding `txid` once it is in the chain; rejects with
   * a TransactionFailedError when this peer (a validator) rejects it, or after `timeoutMs`.
   */
  waitForTransaction (txid: string, timeoutMs: number): Promise<number> {
    return this.waiter.waitFor(txid, timeoutMs)
  }

  /**
   * A validator with membership services checks the certificate and signature first (Fabric's
   * TransactionPreValidation): a refused transaction is answered FAILURE, as Fabric does, and
   * also reported as a REJECTION event.
   */
  async processTransaction (tx: Transaction): Promise<Response> {
    if (this.security !== undefined && this.config.peer.validator.enabled) {
      try {
        preValidateTransaction(tx, this.security.verifier)
      } catch (err) {
        this.log.error(`ProcessTransaction failed to verify transaction ${tx.txid}: ${errorMessage(err)}`)
        this.rejections.report(tx, errorMessage(err))
        return create(ResponseSchema, { status: Response_StatusCode.FAILURE, msg: utf8(errorMessage(err)) })
      }
    }
    return await this.peer.processTransaction(tx)
  }
}
