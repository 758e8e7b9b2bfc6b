import { create } from '@bufbuild/protobuf'
import { timestampAt } from '../ledger/block.ts'
import type { Ledger } from '../ledger/ledger.ts'
import type { StateDelta } from '../ledger/state-delta.ts'
import {
  PeerEndpointSchema, PeerEndpoint_Type, PeersMessageSchema,
  type Block, type BlockState, type Message, type PeerEndpoint, type PeerID, type PeersMessage, type Response, type Transaction
} from '../protos/fabric_pb.ts'
import type { ChatDialer, ChatServer } from '../transport/chat-server.ts'
import type { ChatStream } from '../transport/chat-stream.ts'
import { createLogger } from '../util/logger.ts'
import { sleep, systemRandom, systemScheduler, type Random, type Scheduler } from '../util/scheduler.ts'
import { ChainFollower } from './chain-follower.ts'
import { verifyIncoming } from './chat-loop.ts'
import { Chats } from './chats.ts'
import type { DiscoveryList } from './discovery.ts'
import { DiscoveryService } from './discovery-service.ts'
import { newPeerHandler, type PeerHandler, type PeerHandlerHost } from './handler.ts'
import { HandlerRegistry } from './handler-registry.ts'
import type { HandlerFactory } from './message-handler.ts'
import { disconnectMessage, helloMessage } from './messages.ts'
import { peerConfig, type PeerConfig, type PeerInit } from './peer-config.ts'
import { signMessage, type MessageSigner } from './security.ts'
import { StateTransfer, type SyncResult } from './state-transfer.ts'
import { failureResponse, sendToRandomPeer } from './transactions.ts'

const log = createLogger('peer')

/** Where a validator's transactions go (Fabric's peer.Engine): the consensus engine. */
export interface Engine {
  processTransaction (tx: Transaction): Promise<Response>
  /** The handlers for Chat streams, when the engine wraps the peer's (else components.handlerFactory stays). */
  getHandlerFactory? (): HandlerFactory<Peer>
}

export interface PeerComponents {
  ledger: Ledger
  dialer: ChatDialer
  scheduler?: Scheduler
  random?: Random
  /** Builds the handler of each Chat stream; default newPeerHandler (consensus wraps it). */
  handlerFactory?: HandlerFactory<Peer>
  /** Required with security.enabled. */
  signer?: MessageSigner
}

/**
 * The peer coordinator (Fabric's peer.Impl): runs every Chat stream (chats.ts), keeps the
 * registered handlers and sends through them (handler-registry.ts), discovers and dials peers
 * (discovery-service.ts), serves sync and runs state transfer, and hands transactions to
 * consensus or to a validator.
 */
export class Peer implements ChatServer, PeerHandlerHost {
  readonly config: PeerConfig
  readonly ledger: Ledger
  readonly scheduler: Scheduler
  readonly random: Random
  readonly transfer: StateTransfer
  private readonly dialer: ChatDialer
  private readonly signer?: MessageSigner
  private handlerFactory: HandlerFactory<Peer>
  private engine?: Engine
  private readonly handlers: HandlerRegistry
  private readonly chats: Chats
  private readonly discoveryService: DiscoveryService
  private readonly follower: ChainFollower
  private stopAnnouncing?: () => void
  private started = false
  private stopping = false

  constructor (init: PeerInit, components: PeerComponents) {
    this.config = peerConfig(init)
    if (this.config.securityEnabled && components.signer === undefined) throw new Error('security.enabled needs a signer for this peer\'s messages')
    this.ledger = components.ledger
    this.dialer = components.dialer
    this.scheduler = components.scheduler ?? systemScheduler
    this.random = components.random ?? systemRandom
    this.signer = components.signer
    this.handlerFactory = components.handlerFactory ?? newPeerHandler
    this.handlers = new HandlerRegistry(this.config.id, msg => this.prepareOutgoing(msg))
    const stopping = (): boolean => this.stopping
    this.chats = new Chats({
      scheduler: this.scheduler,
      helloTimeout: this.config.helloTimeout,
      verify: this.config.securityEnabled ? verifyIncoming(this.signer!) : undefined,
      newHandler: (stream, initiated) => this.handlerFactory(this, stream, initiated),
      newHelloMessage: transport => this.newHelloMessage(transport),
      stopping
    })
    this.discoveryService = new DiscoveryService({ config: this.config, ledger: this.ledger, scheduler: this.scheduler, dialer: this.dialer, chats: this.chats, handlers: this.handlers, stopping })
    this.transfer = new StateTransfer(this, this.config.stateTransfer)
    this.follower = new ChainFollower({
      ledger: this.ledger,
      random: this.random,
      scheduler: this.scheduler,
      transfer: this.transfer,
      blockTimeout: this.config.stateTransfer.blockTimeout,
      handlers: () => this.handlers.byId,
      handlerFor: id => this.handlerFor(id),
      chatsWith: id => this.chatsWith(id),
      peerIDs: () => this.peerIDs(),
      dropPeer: (id, reason) => this.dropPeer(id, reason),
      broadcast: async (msg, type) => await this.broadcast(msg, type),
      stopping
    })
  }

  get syncConfig (): PeerConfig['sync'] { return this.config.sync }
  get discoveryPeriod (): number { return this.config.discovery.period }
  /** The addresses this peer knows, beyond its chats. */
  get discovery (): DiscoveryList { return this.discoveryService.list }

  /** Fabric's NewPeerWithEngine: transactions go to `engine`, Chat streams get its handlers. Call before start(). */
  useEngine (engine: Engine): void {
    if (this.started) throw new Error('useEngine must be called before the peer starts')
    this.engine = engine
    if (engine.getHandlerFactory !== undefined) this.handlerFactory = engine.getHandlerFactory()
  }

  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    await this.discoveryService.load()
    // The one sender of SYNC_BLOCK_ADDED, whatever made the block (consensus, or a sync).
    this.stopAnnouncing = this.ledger.onBlock(c => { void this.follower.announce(c) })
    this.discoveryService.start()
  }

  /** Says DISC_DISCONNECT to every peer, ends every chat and waits for their loops to finish. */
  async stop (): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    this.discoveryService.stop()
    this.stopAnnouncing?.()
    const bye = disconnectMessage(timestampAt(this.scheduler.now()))
    await Promise.allSettled([...this.handlers.byId.values()].map(async h => await h.sendMessage(bye)))
    await this.chats.close()
  }

  // --- Chat ---

  /** Fabric's handleChat: one receive loop per stream until EOF (resolves) or a receive error (rejects). */
  handleChat (stream: ChatStream, initiatedStream: boolean): Promise<void> {
    return this.chats.run(stream, initiatedStream)
  }

  async prepareOutgoing (msg: Message): Promise<Message> {
    if (!this.config.securityEnabled || msg.signature.length > 0) return msg
    return await signMessage(msg, this.signer!)
  }

  /** Dials `address` and chats there, unless already connected or dialling it. */
  chatWithPeer (address: string): Promise<void> { return this.discoveryService.dial(address) }

  // --- handlers ---

  registerHandler (h: PeerHandler): void {
    this.handlers.register(h)
    if (this.config.catchUp && h.head !== undefined && h.head.number > this.ledger.stateBlockNumber) this.follower.scheduleCatchUp()
  }

  deregisterHandler (h: PeerHandler): void { this.handlers.deregister(h) }

  /** Calls `listener` whenever a peer registers or goes away. */
  onPeersChanged (listener: () => void): () => void { return this.handlers.onChanged(listener) }

  handlerFor (peerID: string): PeerHandler | undefined { return this.handlers.get(peerID) }

  secondaryChat (h: PeerHandler, open: boolean): void { this.handlers.secondaryChat(h, open) }

  /** Every chat with `peerID`, the registered one first (see HandlerRegistry.chatsWith). */
  chatsWith (peerID: string): PeerHandler[] { return this.handlers.chatsWith(peerID) }

  peerIDs (): string[] { return this.handlers.ids() }

  /** Fabric's GetRemoteLedger: the handler through which blocks and state of `peerID` are requested. */
  getRemoteLedger (peerID: PeerID | string): PeerHandler {
    const name = typeof peerID === 'string' ? peerID : peerID.name
    const h = this.handlers.get(name)
    if (h === undefined) throw new Error(`Remote ledger not found for receiver ${name}`)
    return h
  }

  dropPeer (peerID: string, reason: string): void {
    const h = this.handlers.get(peerID)
    if (h === undefined) return
    log.warn(`Dropping peer ${peerID}: ${reason}`)
    void h.stream.close(new Error(`dropped: ${reason}`))
  }

  // --- what handlers and consensus ask of the coordinator ---

  /** This peer's endpoint; over a given transport ('grpc', 'libp2p/ws', …), with the address for it. */
  getPeerEndpoint (transport?: string): PeerEndpoint {
    const address = (transport === undefined ? undefined : this.config.transportAddresses[transport.split('/')[0]]) ?? this.config.address
    return create(PeerEndpointSchema, {
      ID: { name: this.config.id },
      address,
      type: this.config.validator ? PeerEndpoint_Type.VALIDATOR : PeerEndpoint_Type.NON_VALIDATOR,
      pkiID: this.config.securityEnabled ? this.signer!.pkiID : undefined
    })
  }

  /** HELLO for a chat over `transport`, carrying the address the remote can dial back on it. */
  async newHelloMessage (transport?: string): Promise<Message> {
    return helloMessage(this.getPeerEndpoint(transport), await this.ledger.getBlockchainInfo(), timestampAt(this.scheduler.now()))
  }

  /** The endpoints of every registered peer (not this one). */
  getPeers (): PeersMessage {
    return create(PeersMessageSchema, { peers: this.handlers.endpoints() })
  }

  /** Connected validators, e.g. for consensus. */
  getValidators (): PeerEndpoint[] {
    return this.getPeers().peers.filter(p => p.type === PeerEndpoint_Type.VALIDATOR)
  }

  peersDiscovered (peers: PeersMessage): void { this.discoveryService.peersDiscovered(peers) }

  peerAnnounced (address: string, from?: PeerHandler): Promise<void> { return this.discoveryService.peerAnnounced(address, from) }

  remoteDisconnected (h: PeerHandler): void { this.discoveryService.remoteDisconnected(h) }

  /** Sends `msg` to every registered peer of `type` (UNDEFINED = all); returns one error per failed send. */
  broadcast (msg: Message, type?: PeerEndpoint_Type): Promise<Error[]> { return this.handlers.broadcast(msg, type) }

  /** Whether a broadcast to `type` would reach any peer now. */
  reaches (type: PeerEndpoint_Type): boolean { return this.handlers.reaches(type) }

  unicast (msg: Message, receiver: PeerID | string): Promise<void> {
    return this.handlers.unicast(msg, typeof receiver === 'string' ? receiver : receiver.name)
  }

  // --- sync served to others ---

  getBlockByNumber (n: number): Promise<Block | undefined> { return this.ledger.getBlockByNumber(n) }
  getStateDelta (n: number): Promise<StateDelta | undefined> { return this.ledger.getStateDelta(n) }

  /** The committed state; a batch being executed makes the ledger refuse, so wait for it to end (a few seconds at most). */
  async getStateSnapshot (): Promise<{ blockNumber: number, entries: [Uint8Array, Uint8Array][] }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.ledger.stateSnapshot()
      } catch (err) {
        if (attempt >= 100) throw err
        await sleep(this.scheduler, 50)
      }
    }
  }

  blockAdded (from: PeerHandler, state: BlockState): void {
    if (this.config.validator || !this.config.catchUp) {
      log.debug(`Ignoring SYNC_BLOCK_ADDED from ${from.name}: ${this.config.validator ? 'validators get blocks from consensus' : 'catching up is off'}`)
      return
    }
    this.follower.blockAdded(from, state)
  }

  // --- state transfer ---

  /**
   * Consensus's state transfer: ledger and state to block `blockNumber` with hash `blockHash`,
   * from `peerIDs` (default all). Once `signal` aborts, no further request goes out and the
   * result is a failure that is not worth retrying.
   */
  syncToTarget (blockNumber: number, blockHash: Uint8Array, peerIDs?: Array<PeerID | string>, signal?: AbortSignal): Promise<SyncResult> {
    return this.transfer.syncToTarget(blockNumber, blockHash, peerIDs?.map(p => typeof p === 'string' ? p : p.name), { signal })
  }

  /** Catches up with the highest chain head the connected peers have shown; undefined when none is ahead. */
  catchUp (): Promise<SyncResult | undefined> { return this.follower.catchUp() }

  // --- transactions ---

  /** Peer.ProcessTransaction: what a client or a non-validator hands this peer. */
  async processTransaction (tx: Transaction): Promise<Response> {
    log.debug(`ProcessTransaction processing transaction txid = ${tx.txid}`)
    return await this.executeTransaction(tx)
  }

  /** A validator hands the transaction to its consensus engine; a non-validator to a random validator it knows. */
  async executeTransaction (tx: Transaction): Promise<Response> {
    if (this.config.validator) {
      if (this.engine === undefined) return failureResponse('this validator has no consensus engine attached')
      return await this.engine.processTransaction(tx)
    }
    const validators = this.getValidators().map(p => p.address)
    const known = validators.length > 0 ? validators : this.discovery.all()
    // Without any chat (a tab that is no enrolled peer of a security-enabled network): its root nodes still take transactions.
    const targets = (known.length > 0 ? known : this.config.discovery.rootNodes).map(a => this.discoveryService.routeTo(a))
    return await sendToRandomPeer(this.dialer, targets, this.random, tx)
  }
}

/** js-libp2p style: the peer coordinator from its settings and the parts it runs on. */
export function createPeer (init: PeerInit, components: PeerComponents): Peer {
  return new Peer(init, components)
}
