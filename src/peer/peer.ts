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
import { errorMessage } from '../util/errors.ts'
import { createLogger } from '../util/logger.ts'
import { every, sleep, systemRandom, systemScheduler, type Random, type Scheduler } from '../util/scheduler.ts'
import { ChainFollower } from './chain-follower.ts'
import { DiscoveryList, loadDiscoveryList, storeDiscoveryList } from './discovery.ts'
import { DuplicateHandlerError } from './errors.ts'
import { newPeerHandler, PeerHandler, type PeerHandlerHost } from './handler.ts'
import type { HandlerFactory, MessageHandler } from './message-handler.ts'
import { receiveLoop, verifyIncoming } from './chat-loop.ts'
import { disconnectMessage, helloMessage, typeName } from './messages.ts'
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

interface Chat {
  stream: ChatStream
  /** The address we dialled, for chats this peer opened. */
  address?: string
}

/**
 * The peer coordinator (Fabric's peer.Impl): runs every Chat stream's receive loop, keeps the
 * registered handlers by peer id, broadcasts and unicasts, discovers and dials peers, serves
 * sync and runs state transfer, and hands transactions to consensus or to a validator.
 */
export class Peer implements ChatServer, PeerHandlerHost {
  readonly config: PeerConfig
  readonly ledger: Ledger
  readonly scheduler: Scheduler
  readonly random: Random
  readonly discovery: DiscoveryList
  readonly transfer: StateTransfer
  private readonly dialer: ChatDialer
  private readonly signer?: MessageSigner
  private handlerFactory: HandlerFactory<Peer>
  private engine?: Engine
  private readonly handlers = new Map<string, PeerHandler>()
  /** Second chats with registered peers (kept open, unlisted), by peer id. */
  private readonly secondaries = new Map<string, Set<PeerHandler>>()
  private readonly chats = new Set<Chat>()
  /** Addresses being dialled, so a second request does not dial again. */
  private readonly dialing = new Set<string>()
  private readonly running = new Set<Promise<void>>()
  private readonly follower: ChainFollower
  private readonly listeners = new Set<() => void>()
  private stopTouch?: () => void
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
    this.discovery = new DiscoveryList(this.config.discovery.limits)
    this.transfer = new StateTransfer(this, this.config.stateTransfer)
    this.follower = new ChainFollower({
      ledger: this.ledger,
      random: this.random,
      scheduler: this.scheduler,
      transfer: this.transfer,
      blockTimeout: this.config.stateTransfer.blockTimeout,
      handlers: () => this.handlers,
      handlerFor: id => this.handlerFor(id),
      chatsWith: id => this.chatsWith(id),
      peerIDs: () => this.peerIDs(),
      dropPeer: (id, reason) => this.dropPeer(id, reason),
      broadcast: async (msg, type) => await this.broadcast(msg, type),
      stopping: () => this.stopping
    })
  }

  get syncConfig (): PeerConfig['sync'] { return this.config.sync }
  get discoveryPeriod (): number { return this.config.discovery.period }

  /** Fabric's NewPeerWithEngine: transactions go to `engine`, Chat streams get its handlers. Call before start(). */
  useEngine (engine: Engine): void {
    if (this.started) throw new Error('useEngine must be called before the peer starts')
    this.engine = engine
    if (engine.getHandlerFactory !== undefined) this.handlerFactory = engine.getHandlerFactory()
  }

  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    const d = this.config.discovery
    let known: string[] = []
    if (d.persist) {
      try { known = await loadDiscoveryList(this.ledger.cols.persist) } catch (err) { log.error(errorMessage(err)) }
    } else {
      log.warn('Discovery list will not be persisted to disk')
    }
    // A stored address this peer cannot dial (malformed, another transport) is dropped.
    const usable = known.filter(a => this.dialer.canDial?.(a) !== false)
    for (const a of usable) this.discovery.reached(a, this.scheduler.now())
    if (usable.length < known.length) {
      log.warn(`Dropped ${known.length - usable.length} undialable address(es) from the stored discovery list`)
      await this.storeDiscovery()
    }
    // The one sender of SYNC_BLOCK_ADDED, whatever made the block (consensus, or a sync).
    this.stopAnnouncing = this.ledger.onBlock(c => { void this.follower.announce(c) })
    this.stopTouch = every(this.scheduler, d.touchPeriod, () => this.touch())
    for (const address of [...d.rootNodes, ...this.discovery.all()]) void this.chatWithPeer(address)
  }

  /** Says DISC_DISCONNECT to every peer, ends every chat and waits for their loops to finish. */
  async stop (): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    this.stopTouch?.()
    this.stopAnnouncing?.()
    const bye = disconnectMessage(timestampAt(this.scheduler.now()))
    await Promise.allSettled([...this.handlers.values()].map(async h => await h.sendMessage(bye)))
    await Promise.allSettled([...this.chats].map(async c => await c.stream.close()))
    await Promise.allSettled([...this.running])
  }

  // --- Chat ---

  /** Fabric's handleChat: one receive loop per stream until EOF (resolves) or a receive error (rejects). */
  handleChat (stream: ChatStream, initiatedStream: boolean): Promise<void> {
    return this.runChat({ stream }, initiatedStream)
  }

  private runChat (chat: Chat, initiatedStream: boolean): Promise<void> {
    const run = this.chatLoop(chat, initiatedStream)
    this.running.add(run)
    void run.catch(() => {}).finally(() => this.running.delete(run))
    return run
  }

  private async chatLoop (chat: Chat, initiatedStream: boolean): Promise<void> {
    const { stream } = chat
    if (this.stopping) {
      await stream.close()
      return
    }
    let handler: MessageHandler
    try {
      handler = this.handlerFactory(this, stream, initiatedStream)
    } catch (err) {
      await stream.close(err as Error)
      throw new Error(`Error creating handler during handleChat initiation: ${(err as Error).message}`)
    }
    this.chats.add(chat)
    let failure: Error | undefined
    // A remote that never says HELLO would hold its connection (and a place under the caps) forever.
    const ms = this.config.helloTimeout
    const helloDeadline = ms > 0
      ? this.scheduler.schedule(ms, () => { if (handler.to() === undefined) void stream.close(new Error(`no DISC_HELLO within ${ms} ms`)) })
      : undefined
    try {
      if (initiatedStream) {
        try {
          await handler.sendMessage(await this.newHelloMessage(stream.transport))
        } catch (err) {
          throw new Error(`Error creating new Peer Handler, error returned sending DISC_HELLO: ${(err as Error).message}`)
        }
      }
      await receiveLoop(stream, handler, this.config.securityEnabled ? verifyIncoming(this.signer!) : undefined)
    } catch (err) {
      failure = err as Error
      log.error(`Chat with ${handler.to()?.ID?.name ?? stream.remote} (${stream.transport}) ended: ${failure.message}`)
      throw failure
    } finally {
      helloDeadline?.cancel()
      this.chats.delete(chat)
      await handler.stop()
      await stream.close(failure)
    }
  }

  async prepareOutgoing (msg: Message): Promise<Message> {
    if (!this.config.securityEnabled || msg.signature.length > 0) return msg
    return await signMessage(msg, this.signer!)
  }

  /** Dials `address` and chats there, unless already connected or dialling it. */
  async chatWithPeer (address: string): Promise<void> {
    if (address === '' || address === this.config.address || this.stopping || this.connectedTo(address)) return
    this.dialing.add(address)
    let stream: ChatStream
    try {
      stream = await this.dialer.dialChat(address)
    } catch (err) {
      log.error(`Error creating connection to peer address ${address}: ${errorMessage(err)}`)
      if (this.discovery.unreachable(address, this.scheduler.now())) {
        log.warn(`Forgetting peer address ${address}: unreachable for ${this.config.discovery.limits.expiry} ms`)
        void this.storeDiscovery()
      }
      return
    } finally {
      this.dialing.delete(address)
    }
    log.debug(`Established Chat with peer address: ${address}`)
    this.runChat({ stream, address }, true).catch(err => log.error(`Ending Chat with peer address ${address} due to error: ${errorMessage(err)}`))
  }

  private connectedTo (address: string): boolean {
    if (this.dialing.has(address)) return true
    for (const c of this.chats) if (c.address === address) return true
    for (const h of this.handlers.values()) if (h.to()?.address === address) return true
    return false
  }

  /** Fabric's touch service: redial the root nodes and known peers that are not connected, so start order does not matter. */
  private touch (): void {
    const known = [...new Set([...this.config.discovery.rootNodes, ...this.discovery.all()])]
    const missing = known.filter(a => a !== this.config.address && !this.connectedTo(a) && this.dialer.canDial?.(a) !== false)
    if (missing.length === 0) return
    log.warn('Touch service indicates dropped connections, attempting to reconnect...')
    const max = this.config.discovery.touchMaxNodes
    for (const a of max >= 0 ? missing.slice(0, max) : missing) void this.chatWithPeer(a)
  }

  // --- handlers ---

  registerHandler (h: PeerHandler): void {
    const ep = h.to()!
    const id = ep.ID!.name
    if (id === this.config.id) throw new Error(`refusing a chat with a peer that uses this peer's own id ${id}`)
    const existing = this.handlers.get(id)
    if (existing !== undefined && existing !== h) {
      // Both sides dialled at once: each keeps the stream opened by the peer with the smaller id.
      const keepNew = existing.initiatedStream !== h.initiatedStream && h.initiatedStream === (this.config.id < id)
      if (!keepNew) throw new DuplicateHandlerError(ep)
      log.debug(`Replacing the chat with ${id}: both sides dialled, keeping the stream ${h.initiatedStream ? 'this peer' : id} opened`)
      void existing.stream.close(new Error(`superseded by the chat ${h.initiatedStream ? 'this peer' : id} opened`))
    }
    this.handlers.set(id, h)
    log.debug(`registered handler with key: ${id}`)
    this.changed()
    if (this.config.catchUp && h.head !== undefined && h.head.number > this.ledger.stateBlockNumber) this.follower.scheduleCatchUp()
  }

  deregisterHandler (h: PeerHandler): void {
    const id = h.to()?.ID?.name
    if (id === undefined || this.handlers.get(id) !== h) return
    this.handlers.delete(id)
    log.debug(`Deregistered handler with key: ${id}`)
    this.changed()
  }

  /** Calls `listener` whenever a peer registers or goes away. */
  onPeersChanged (listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private changed (): void {
    for (const l of this.listeners) l()
  }

  handlerFor (peerID: string): PeerHandler | undefined { return this.handlers.get(peerID) }

  secondaryChat (h: PeerHandler, open: boolean): void {
    const id = h.to()?.ID?.name
    if (id === undefined) return
    const set = this.secondaries.get(id) ?? new Set<PeerHandler>()
    if (open) set.add(h)
    else set.delete(h)
    if (set.size > 0) this.secondaries.set(id, set)
    else this.secondaries.delete(id)
  }

  /**
   * Every chat with `peerID`: the registered one first, then second chats it opened that this
   * peer did not list. A Fabric peer answers requests only on the chat it registered, which
   * may be one of those (both sides dialled, and each registered the chat it heard from first).
   */
  chatsWith (peerID: string): PeerHandler[] {
    const h = this.handlers.get(peerID)
    return [...(h === undefined ? [] : [h]), ...(this.secondaries.get(peerID) ?? [])]
  }

  peerIDs (): string[] { return [...this.handlers.keys()] }

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
    return create(PeersMessageSchema, { peers: [...this.handlers.values()].map(h => h.to()!) })
  }

  /** Connected validators, e.g. for consensus. */
  getValidators (): PeerEndpoint[] {
    return this.getPeers().peers.filter(p => p.type === PeerEndpoint_Type.VALIDATOR)
  }

  peersDiscovered (peers: PeersMessage): void {
    for (const ep of peers.peers) {
      const id = ep.ID?.name
      if (id === undefined || id === this.config.id || this.handlers.has(id)) continue
      // A peer on a transport this one lacks (a host:port heard by a libp2p-only tab): no use dialling it every period.
      if (this.dialer.canDial?.(ep.address) === false) {
        log.debug(`Not dialling discovered peer ${id} at ${ep.address}: no transport for that address`)
        continue
      }
      // Claimed by another peer: tried, but not kept past its first failed dial.
      if (this.discovery.claim(ep.address, this.scheduler.now())) void this.chatWithPeer(ep.address)
    }
  }

  async peerAnnounced (address: string, from?: PeerHandler): Promise<void> {
    // For a chat this peer opened, remember the address it dialled (a bridge may advertise one of
    // another transport): verified, and persisted. What an inbound HELLO says is only a claim,
    // kept in memory until a dial to it fails.
    const dialled = from !== undefined ? this.dialledAddress(from) : address
    if (dialled !== undefined) {
      if (this.discovery.reached(dialled, this.scheduler.now())) await this.storeDiscovery()
    } else if (this.dialer.canDial?.(address) !== false) {
      this.discovery.claim(address, this.scheduler.now())
    }
  }

  remoteDisconnected (h: PeerHandler): void {
    const address = h.to() !== undefined ? this.reachAddress(h) : undefined
    if (address !== undefined && this.discovery.remove(address)) void this.storeDiscovery()
  }

  private async storeDiscovery (): Promise<void> {
    if (!this.config.discovery.persist) return
    try {
      await storeDiscoveryList(this.ledger.cols.persist, this.discovery.persisted())
    } catch (err) {
      log.error(`Could not store the discovery list: ${errorMessage(err)}`)
    }
  }

  /** Sends `msg` to every registered peer of `type` (UNDEFINED = all); returns one error per failed send. */
  async broadcast (msg: Message, type: PeerEndpoint_Type = PeerEndpoint_Type.UNDEFINED): Promise<Error[]> {
    const targets = [...this.handlers.values()].filter(h => isOfType(h, type))
    // Signing costs more than anything else here: not for nobody.
    if (targets.length === 0) return []
    const signed = await this.prepareOutgoing(msg)
    const results = await Promise.allSettled(targets.map(async h => await h.sendMessage(signed)))
    return results.flatMap((r, i) => r.status === 'fulfilled'
      ? []
      : [new Error(`Error broadcasting msg (${typeName(msg.type)}) to PeerEndpoint (${targets[i].name}): ${(r.reason as Error).message}`)])
  }

  /** Whether a broadcast to `type` would reach any peer now. */
  reaches (type: PeerEndpoint_Type): boolean {
    for (const h of this.handlers.values()) if (isOfType(h, type)) return true
    return false
  }

  async unicast (msg: Message, receiver: PeerID | string): Promise<void> {
    const name = typeof receiver === 'string' ? receiver : receiver.name
    const h = this.handlers.get(name)
    if (h === undefined) throw new Error(`Message handler not found for receiver ${name}`)
    try {
      await h.sendMessage(msg)
    } catch (err) {
      throw new Error(`Error unicasting msg (${typeName(msg.type)}) to PeerEndpoint (${name}): ${(err as Error).message}`)
    }
  }

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
    const targets = (known.length > 0 ? known : this.config.discovery.rootNodes).map(a => this.routeTo(a))
    return await sendToRandomPeer(this.dialer, targets, this.random, tx)
  }

  /**
   * How to reach the peer that says it is at `address`: for a chat this peer opened, the address
   * it dialled. A bridge in a gRPC network says host:port, which a libp2p-only peer (a browser
   * tab) cannot dial, though it reached the bridge at a multiaddr; without this its transactions
   * went nowhere ("… is not a libp2p multiaddr").
   */
  private routeTo (address: string): string {
    for (const h of this.handlers.values()) if (h.to()?.address === address) return this.reachAddress(h)
    return address
  }

  /** The address this peer dialled for `h`'s chat, else the address the remote gave in its HELLO. */
  private reachAddress (h: PeerHandler): string {
    return this.dialledAddress(h) ?? h.to()?.address ?? ''
  }

  /** The address this peer dialled for `h`'s chat; undefined for a chat the remote opened. */
  private dialledAddress (h: PeerHandler): string | undefined {
    for (const c of this.chats) if (c.stream === h.stream && c.address !== undefined) return c.address
    return undefined
  }
}

/** js-libp2p style: the peer coordinator from its settings and the parts it runs on. */
export function createPeer (init: PeerInit, components: PeerComponents): Peer {
  return new Peer(init, components)
}

/** A broadcast to `type` (UNDEFINED = all) goes to this handler's peer. */
function isOfType (h: PeerHandler, type: PeerEndpoint_Type): boolean {
  return type === PeerEndpoint_Type.UNDEFINED || h.to()?.type === type
}
