import { clone, create } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import { executeQuery, executeTransactions, type ExecutionContext } from './chaincode/executor.ts'
import { nodeDeploymentSpec } from './chaincode/package.ts'
import type { ChaincodeStream } from './chaincode/stream.ts'
import { ChaincodeSupport } from './chaincode/support.ts'
import { newDeployTransaction, newExecuteTransaction } from './chaincode/transactions.ts'
import { withOverrides } from './config/overrides.ts'
import type { CoreConfig } from './config/schema.ts'
import { fromUtf8, utf8 } from './crypto/bytes.ts'
import { cryptoSuite } from './crypto/fabric/suite.ts'
import { consensusInit } from './consensus/core-config.ts'
import { ConsensusEngine } from './consensus/engine.ts'
import { StateTransferError } from './consensus/interfaces.ts'
import { PbftBatch, type PbftBatchStatus } from './consensus/pbft/batch.ts'
import { replicaName, ValidatorSet, type ValidatorEntry } from './consensus/validators.ts'
import { EventHub } from './events/hub.ts'
import { serveEventStream, type EventStream } from './events/session.ts'
import { TxWaiter } from './events/tx-waiter.ts'
import { Ledger, makeGenesis, type CommittedBlock } from './ledger/ledger.ts'
import type { PeerApi, SubmitOptions, TransactionStatus } from './peer-api.ts'
import type { PeerPlatform } from './peer-platform.ts'
import { newPeerHandler } from './peer/handler.ts'
import { createPeer, type Peer } from './peer/peer.ts'
import { ChaincodeDeploymentSpecSchema, ChaincodeInvocationSpecSchema, ChaincodeSpecSchema, ChaincodeSpec_Type, ConfidentialityLevel, type ChaincodeDeploymentSpec, type ChaincodeInvocationSpec, type ChaincodeSpec } from './protos/chaincode_pb.ts'
import type { Event, Interest } from './protos/events_pb.ts'
import { PeerEndpoint_Type, ResponseSchema, Response_StatusCode, Transaction_Type, type PeerEndpoint, type Response, type Transaction } from './protos/fabric_pb.ts'
import { ServerStatus_StatusCode } from './protos/server_admin_pb.ts'
import type { NodeSecurity } from './security/member.ts'
import { EnrollmentSigning } from './security/node-signing.ts'
import { decryptQueryResult, encryptTransaction, preExecuteTransaction, stateEncryptor } from './security/confidentiality.ts'
import { preValidateTransaction, randomNonce, signTransaction, transactionBinding } from './security/transactions.ts'
import { Users } from './security/users.ts'
import { transportDialer, transportFor } from './transport/peer-transport.ts'
import { errorMessage } from './util/errors.ts'
import { createLogger, type Logger } from './util/logger.ts'
import { LruMap } from './util/lru.ts'
import type { Scheduler } from './util/scheduler.ts'

/** Height, head and state of the local chain. */
export interface ChainHead {
  /** Blocks in the chain, genesis included (0 before a non-validator has synced anything). */
  height: number
  /** Hash of the newest block (empty at height 0). */
  currentBlockHash: Uint8Array
  /** The block the world state belongs to (-1 for none). */
  stateBlock: number
  /** The world state's hash (empty for an empty state). */
  stateHash: Uint8Array
}

/** One peer this peer chats with (its registered chat). */
export interface PeerConnection {
  /** Its peer.id, from its HELLO. */
  name: string
  /** Its PeerEndpoint.address as it gave it. */
  address: string
  type: PeerEndpoint_Type
  /** What carries the chat: 'grpc', 'libp2p/ws', 'libp2p/webrtc', 'memory', … */
  transport: string
  /** The other side as the transport knows it (libp2p peer id, host:port, memory name). */
  remote: string
  /** This peer opened the chat. */
  initiated: boolean
  /** SYNC_BLOCK_ADDED messages it sent on this chat. */
  blocksAnnounced: number
}

/** What a validator's consensus is doing. */
export interface ConsensusStatus {
  plugin: 'noops' | 'pbft'
  /** Validators in the network (PBFT's N; noops: those listed, else those seen). */
  N: number
  /** Faulty validators tolerated (PBFT's f; 0 for noops). */
  f: number
  /** Validators this peer has a chat with, itself included. */
  liveValidators: string[]
  /** PBFT: view, primary, sequence numbers, watermark, checkpoints and request queue of this replica. */
  pbft?: PbftBatchStatus
}

/** Executions of one kind of chaincode transaction since the node was created. */
export interface ChaincodeCalls {
  calls: number
  errors: number
  /** Time spent executing them, in milliseconds. */
  totalMs: number
}

/** Figures for the metrics endpoint. Counters start when the node is created. */
export interface PeerMetrics {
  height: number
  blocksCommitted: number
  transactionsCommitted: number
  /** When the last block was written (scheduler ms), undefined before any. */
  lastCommitMs?: number
  /** Chaincode executions on this peer (a validator's: others forward their transactions). */
  chaincode: Record<'deploy' | 'invoke' | 'query', ChaincodeCalls>
  /** Peers with a registered chat. */
  peers: number
  /** Event hub consumers with at least one interest, and what the hub took, refused and delivered. */
  eventClients: number
  eventsAccepted: number
  eventsRefused: number
  eventDeliveries: number
}

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
  private readonly counts: { blocks: number, transactions: number, lastCommitMs?: number } = { blocks: 0, transactions: 0 }
  private readonly stopCounting: () => void

  private constructor (
    /** The config in force: the one given, with the PBFT network (N, f) a validator list implies. */
    readonly config: CoreConfig,
    private readonly platform: PeerPlatform,
    private readonly log: Logger,
    private readonly ledger: Ledger,
    private readonly hub: EventHub,
    private readonly support: ChaincodeSupport,
    private readonly peer: Peer,
    private readonly validators: ValidatorSet | undefined,
    private readonly engine: ConsensusEngine | undefined,
    /** Reports a rejected transaction: a REJECTION event, the waiters, the recent rejections. */
    private readonly reject: (tx: Transaction, error: string) => void,
    private readonly rejections: Set<(txid: string, error: string) => void>,
    /** The last rejections (txid → error, time), so a client that did not wait can still learn why. */
    private readonly rejected: LruMap<string, { error: string, at: number }>,
    private readonly chaincodeCalls: PeerMetrics['chaincode'],
    /** security.enabled with membership services: this peer's enrollment, and how it checks transactions. */
    private readonly security: NodeSecurity | undefined,
    readonly users: Users | undefined
  ) {
    this.waiter = new TxWaiter({
      onBlock: l => ledger.onBlock(l),
      onRejection: l => { rejections.add(l); return () => rejections.delete(l) },
      blockOf: async txid => (await ledger.chain.txLocation(txid))?.block,
      scheduler: platform.scheduler
    })
    this.stopCounting = ledger.onBlock(({ block }) => {
      this.counts.blocks++
      this.counts.transactions += block.transactions.length
      this.counts.lastCommitMs = platform.scheduler.now()
    })
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
    const suite = security === undefined ? undefined : cryptoSuite(config.security.hashAlgorithm, config.security.level)
    // Only an enrolled validator holds the chain's private key, which confidential transactions need.
    const chainKey = security?.self.chain?.privateKey
    const preExecute = suite === undefined ? undefined : (tx: Transaction): Transaction => preExecuteTransaction(suite, tx, chainKey)
    const support = new ChaincodeSupport({
      ledger,
      userRunsChaincode: config.chaincode.mode === 'dev',
      runtime: platform.chaincodeRuntime,
      startupTimeout: config.chaincode.startuptimeout,
      keepalive: config.chaincode.keepalive * 1000,
      scheduler,
      networkId: config.peer.networkId,
      peerId: config.peer.id,
      binding: security === undefined ? undefined : tx => transactionBinding(tx, security.verifier),
      confidentiality: suite === undefined || preExecute === undefined
        ? undefined
        : {
            preExecute,
            stateEncryptor: (deployTx, tx) => {
              if (chainKey === undefined) throw new Error('this peer holds no chain private key for a confidential chaincode\'s state')
              return stateEncryptor(suite, chainKey, deployTx, tx)
            }
          }
    })
    const d = config.peer.discovery
    // The other validators of the network, where listed with an address, are dialled as root nodes are.
    const rootNodes = [
      ...d.rootnode.split(',').map(s => s.trim()).filter(s => s !== ''),
      ...(listed ?? []).filter(v => v.name !== config.peer.id && v.address !== undefined).map(v => v.address!)
    ]
    // Known by the address of the transport its network uses (a gRPC network names host:port root nodes).
    const known = (rootNodes.length > 0 ? transportFor(transports, rootNodes[0]) : undefined) ?? transports[0]
    const peer = createPeer({
      id: config.peer.id,
      address: known.address,
      transportAddresses: Object.fromEntries(transports.map(t => [t.name, t.address])),
      validator,
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
        rootNodes,
        period: d.period,
        persist: d.persist,
        touchPeriod: d.touchPeriod,
        touchMaxNodes: d.touchMaxNodes,
        limits: { maxNodes: d.maxNodes, expiry: d.expiry, claimBackoff: Math.min(d.expiry, d.touchPeriod > 0 ? d.touchPeriod : 6000), claimRetry: Math.min(d.expiry, d.touchPeriod > 0 ? 10 * d.touchPeriod : 60_000) }
      }
    }, { ledger, dialer: transportDialer(transports), scheduler, random, signer: signing ?? platform.identity?.signer })

    let node: PeerNode | undefined
    let validators: ValidatorSet | undefined
    let engine: ConsensusEngine | undefined
    const rejections = new Set<(txid: string, error: string) => void>()
    const rejected = new LruMap<string, { error: string, at: number }>(10_000)
    const chaincodeCalls = { deploy: noCalls(), invoke: noCalls(), query: noCalls() }
    const reject = (tx: Transaction, error: string): void => {
      rejected.set(tx.txid, { error, at: scheduler.now() })
      hub.publishRejection(tx, error)
      for (const l of rejections) l(tx.txid, error)
    }
    if (validator) {
      const ctx: ExecutionContext = {
        support,
        preValidate: security === undefined || preExecute === undefined
          ? undefined
          : tx => {
            preValidateTransaction(tx, security.verifier)
            return preExecute(tx)
          },
        onRejection: reject,
        observer: {
          now: () => scheduler.now(),
          executed: (tx, ms, error) => {
            const c = tx.type === Transaction_Type.CHAINCODE_DEPLOY ? chaincodeCalls.deploy : tx.type === Transaction_Type.CHAINCODE_QUERY ? chaincodeCalls.query : chaincodeCalls.invoke
            c.calls++
            c.totalMs += ms
            if (error !== undefined) c.errors++
          }
        }
      }
      // Without a list, PBFT's validators are Fabric's: vp0 … vp(N-1), known by the names their HELLOs give.
      const members = listed ?? (config.peer.validator.consensus.plugin === 'pbft'
        ? Array.from({ length: config.pbft.general.N }, (_, i) => ({ name: replicaName(i) }))
        : undefined)
      validators = new ValidatorSet(config.peer.id, members ?? [{ name: config.peer.id }], members === undefined)
      engine = await ConsensusEngine.create(consensusInit(config), {
        ledger,
        validators,
        communicator: {
          broadcast: async (msg, type) => {
            const errors = await peer.broadcast(msg, type)
            for (const e of errors) log.warn(`broadcast: ${errorMessage(e)}`)
          },
          unicast: (msg, receiver) => peer.unicast(msg, receiver),
          reaches: type => peer.reaches(type),
          connected: receiver => peer.handlerFor(receiver.name) !== undefined,
          onPeersChanged: listener => peer.onPeersChanged(listener)
        },
        executeTransactions: (txs, batch) => executeTransactions(ctx, txs, batch),
        stateTransfer: {
          async syncToTarget (blockNumber, blockHash, peers, signal) {
            const r = await peer.syncToTarget(blockNumber, blockHash, peers, signal)
            if (!r.ok) throw new StateTransferError(r.error.message, r.recoverable, { cause: r.error })
          }
        },
        query: tx => executeQuery(ctx, tx),
        security: signing?.consensus(config.peer.id, name => peer.handlerFor(name)?.to()?.pkiID) ?? platform.identity?.consensusSecurity,
        scheduler,
        random,
        // Fabric panics; this peer stops, and its edge hears why.
        onFatal: err => { void node?.fail(err) }
      })
      const e = engine
      peer.useEngine({
        processTransaction: tx => e.processTransaction(tx),
        getHandlerFactory: () => e.handlerFactory(newPeerHandler)
      })
    }
    const userKeys = security?.keystore ?? (config.security.enabled ? platform.users : undefined)
    const users = userKeys === undefined ? undefined : new Users(userKeys)
    node = new PeerNode(config, platform, log, ledger, hub, support, peer, validators, engine, reject, rejections, rejected, chaincodeCalls, security, users)
    return node
  }

  /** Consensus first (it must take what the first chats bring), then the transports, then the peer dials out. */
  start (): Promise<void> {
    this.starting ??= (async () => {
      this.engine?.start()
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
        ['consensus', () => this.engine?.stop()],
        ['chaincode', () => this.support.stopAll()],
        ['events', () => this.hub.close()],
        ['ledger', () => { this.stopCounting(); return this.ledger.close() }]
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
    const r = this.rejected.get(txid)
    return r === undefined ? { status: 'unknown' } : { status: 'rejected', ...r }
  }

  /** Blocks in the local chain. */
  get height (): number { return this.ledger.height }

  async head (): Promise<ChainHead> {
    const info = await this.ledger.getBlockchainInfo()
    return {
      height: this.ledger.height,
      currentBlockHash: info.currentBlockHash,
      stateBlock: this.ledger.stateBlockNumber,
      stateHash: (await this.ledger.getTempStateHash()) ?? new Uint8Array(0)
    }
  }

  /** Every block written (committed here, or received by sync); returns the unsubscribe function. */
  onBlock (listener: (b: CommittedBlock) => void): () => void { return this.ledger.onBlock(listener) }

  // --- peers ---

  async getPeers () { return this.peer.getPeers() }

  async getPeerEndpoint (): Promise<PeerEndpoint> { return this.peer.getPeerEndpoint() }

  connections (): PeerConnection[] {
    return this.peer.peerIDs().flatMap(id => {
      const h = this.peer.handlerFor(id)
      const ep = h?.to()
      if (h === undefined || ep === undefined) return []
      return [{ name: id, address: ep.address, type: ep.type, transport: h.stream.transport, remote: h.stream.remote, initiated: h.initiatedStream, blocksAnnounced: h.announced }]
    })
  }

  /** Dials `address` and chats there, unless already connected or dialling it. */
  connect (address: string): Promise<void> { return this.peer.chatWithPeer(address) }

  status (): ServerStatus_StatusCode { return this.state }

  // --- consensus ---

  /** Undefined on a non-validator. */
  consensusStatus (): ConsensusStatus | undefined {
    if (this.engine === undefined || this.validators === undefined) return undefined
    const set = this.validators
    const live = [set.self, ...this.connections().filter(c => c.type === PeerEndpoint_Type.VALIDATOR && set.has(c.name)).map(c => c.name)]
    const consenter = this.engine.consenter
    if (!(consenter instanceof PbftBatch)) {
      return { plugin: 'noops', N: set.open ? live.length : set.validators.length, f: 0, liveValidators: live }
    }
    const { N, f } = this.config.pbft.general
    return { plugin: 'pbft', N, f, liveValidators: live, pbft: consenter.status() }
  }

  /**
   * Asks PBFT for the next view, as a replica does when its request timer says the primary has
   * failed. False on a peer that runs no PBFT.
   */
  requestViewChange (): boolean {
    const consenter = this.engine?.consenter
    if (!(consenter instanceof PbftBatch)) return false
    consenter.requestViewChange()
    return true
  }

  // --- what the edges' servers hand the node ---

  /** One Events.Chat conversation (gRPC Events service, /weft/events over libp2p) until it ends. */
  serveEvents (stream: EventStream): Promise<void> { return serveEventStream(this.hub, stream) }

  /** An in-process event consumer with the same filters as a remote one; returns the function that removes it. */
  subscribeEvents (interests: Interest[], listener: (ev: Event) => void | Promise<void>, name?: string): () => void {
    return this.hub.subscribe(interests, listener, name)
  }

  /** A chaincode's ChaincodeSupport.Register stream (dev mode: chaincodes the user starts). */
  serveChaincode (stream: ChaincodeStream): Promise<void> { return this.support.handleStream(stream) }

  metrics (): PeerMetrics {
    const { stats } = this.hub
    return {
      height: this.ledger.height,
      blocksCommitted: this.counts.blocks,
      transactionsCommitted: this.counts.transactions,
      lastCommitMs: this.counts.lastCommitMs,
      chaincode: structuredClone(this.chaincodeCalls),
      peers: this.peer.peerIDs().length,
      eventClients: this.hub.consumerCount,
      eventsAccepted: stats.accepted,
      eventsRefused: stats.refused,
      eventDeliveries: stats.delivered
    }
  }

  // --- Devops ---

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
    return nodeDeploymentSpec(codePackage, spec.ctorMsg?.args ?? [])
  }

  async deploy (spec: ChaincodeSpec, opts: SubmitOptions = {}): Promise<ChaincodeDeploymentSpec> {
    const user = this.users === undefined ? undefined : spec.secureContext
    const cds = await this.build(user === undefined ? spec : create(ChaincodeSpecSchema, { ...spec, secureContext: '' }))
    const name = cds.chaincodeSpec?.chaincodeID?.name ?? ''
    if (name === '') throw new Error('name not given for deploy')
    // As Fabric, the deploy transaction's id is the chaincode name.
    await this.submit(await this.signedBy(user, spec, newDeployTransaction(cds, name, this.now())), opts)
    return cds
  }

  async invoke (cis: ChaincodeInvocationSpec, opts: SubmitOptions = {}): Promise<Response> {
    if ((cis.chaincodeSpec?.chaincodeID?.name ?? '') === '') throw new Error('name not given for invoke/query')
    const [user, spec] = this.withoutSecureContext(cis)
    return await this.submit(await this.signedBy(user, spec.chaincodeSpec!, newExecuteTransaction(spec, this.newTxid(), Transaction_Type.CHAINCODE_INVOKE, this.now())), opts)
  }

  /** With users, the secureContext names the user who signs; Fabric clears it before the transaction is built. */
  private withoutSecureContext (cis: ChaincodeInvocationSpec): [string | undefined, ChaincodeInvocationSpec] {
    if (this.users === undefined) return [undefined, cis]
    const spec = clone(ChaincodeInvocationSpecSchema, cis)
    const user = spec.chaincodeSpec!.secureContext
    spec.chaincodeSpec!.secureContext = ''
    return [user, spec]
  }

  /**
   * Devops' secure path: the spec's metadata, a nonce, encryption for a CONFIDENTIAL spec
   * (confidentiality protocol 1.2, to the chain key `user` got at enrollment), then `user`'s
   * next TCert and its signature (crypto.InitClient fails for a user not logged in).
   */
  private async signedBy (user: string | undefined, spec: ChaincodeSpec, tx: Transaction): Promise<Transaction> {
    if (user === undefined || this.users === undefined) return tx
    const member = await this.users.member(user)
    tx.metadata = spec.metadata
    tx.nonce = randomNonce(this.platform.random)
    if (spec.confidentialityLevel === ConfidentialityLevel.CONFIDENTIAL) {
      const chain = member.chain
      if (chain?.queryStateKey === undefined) throw new Error(`${user} holds no chain key from membership services: it cannot send confidential transactions`)
      tx = encryptTransaction(this.suite(), tx, { chainPublicKey: chain.publicKey, queryStateKey: chain.queryStateKey })
    }
    return signTransaction(tx, await member.nextTCert())
  }

  /**
   * A confidential query's result comes back encrypted to a key only its user derives (Fabric's
   * Devops decrypts it with DecryptQueryResult before answering).
   */
  private async queryResult (user: string | undefined, tx: Transaction, resp: Response): Promise<Response> {
    if (user === undefined || this.users === undefined || tx.confidentialityLevel !== ConfidentialityLevel.CONFIDENTIAL) return resp
    const queryStateKey = (await this.users.member(user)).chain?.queryStateKey
    if (queryStateKey === undefined) throw new Error(`${user} holds no query state key to decrypt the query result`)
    try {
      return create(ResponseSchema, { ...resp, msg: decryptQueryResult(this.suite(), queryStateKey, tx, resp.msg) })
    } catch (err) {
      throw new Error(`Failed decrypting query transaction result: ${errorMessage(err)}`)
    }
  }

  private suite () { return cryptoSuite(this.config.security.hashAlgorithm, this.config.security.level) }


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
    const [user, spec] = this.withoutSecureContext(cis)
    const tx = await this.signedBy(user, spec.chaincodeSpec!, newExecuteTransaction(spec, this.newTxid(), Transaction_Type.CHAINCODE_QUERY, this.now()))
    const resp = await this.peer.executeTransaction(tx)
    if (resp.status === Response_StatusCode.FAILURE) throw new Error(fromUtf8(resp.msg))
    return await this.queryResult(user, tx, resp)
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
        this.reject(tx, errorMessage(err))
        return create(ResponseSchema, { status: Response_StatusCode.FAILURE, msg: utf8(errorMessage(err)) })
      }
    }
    return await this.peer.processTransaction(tx)
  }

  private now () { return timestampFromMs(this.platform.scheduler.now()) }

  /** A version-4 UUID (Fabric's txid) from the platform's randomness, so simulations stay reproducible. */
  private newTxid (): string {
    let id = ''
    for (let i = 0; i < 16; i++) {
      let b = Math.floor(this.platform.random() * 256)
      if (i === 6) b = (b & 0x0f) | 0x40
      else if (i === 8) b = (b & 0x3f) | 0x80
      if (i === 4 || i === 6 || i === 8 || i === 10) id += '-'
      id += hexDigits[b >> 4] + hexDigits[b & 15]
    }
    return id
  }
}

const hexDigits = '0123456789abcdef'

function noCalls (): ChaincodeCalls { return { calls: 0, errors: 0, totalMs: 0 } }

/**
 * A listed PBFT network fixes N; f stays as configured when the config was written for that N,
 * else it is the most N replicas tolerate. Every platform gets N and f here, once.
 */
function pbftNetwork (config: CoreConfig, listed: ValidatorEntry[] | undefined, log: Logger): CoreConfig {
  const { N } = config.pbft.general
  if (listed === undefined || config.peer.validator.consensus.plugin !== 'pbft' || listed.length === N) return config
  const f = Math.floor((listed.length - 1) / 3)
  log.info(`PBFT network of ${listed.length} listed validators (general.N was ${N}): N = ${listed.length}, f = ${f}`)
  return withOverrides(config, { pbft: { general: { N: listed.length, f } } })
}
