import {
  BlockStateSchema, HelloMessageSchema, Message_Type, PeersMessageSchema, SyncBlockRangeSchema, SyncBlocksSchema,
  SyncStateDeltasRequestSchema, SyncStateDeltasSchema, SyncStateSnapshotRequestSchema, SyncStateSnapshotSchema,
  type BlockState, type BlockchainInfo, type Message, type PeerEndpoint, type PeersMessage, type SyncBlockRange, type SyncBlocks,
  type SyncStateDeltas, type SyncStateSnapshot
} from '../protos/fabric_pb.ts'
import type { ChatStream } from '../transport/chat-stream.ts'
import { createLogger } from '../util/logger.ts'
import { every, type Scheduler } from '../util/scheduler.ts'
import type { Channel } from './channel.ts'
import { DuplicateHandlerError } from './errors.ts'
import type { HandlerFactory, MessageHandler } from './message-handler.ts'
import { getPeersMessage, parsePayload, peersMessage, syncGetBlocksMessage, syncGetDeltasMessage, syncGetSnapshotMessage, typeName } from './messages.ts'
import { SyncRequest, type OpenRequest } from './sync-request.ts'
import { sendBlocks, sendStateDeltas, sendStateSnapshot, type SyncSource } from './sync-responder.ts'
import { errorMessage } from '../util/errors.ts'

const log = createLogger('peer')

/** Channel sizes and timeouts of the sync requests (core.yaml peer.sync.*). */
export interface SyncConfig {
  blocksChannelSize: number
  deltasChannelSize: number
  snapshotChannelSize: number
  /** How long a snapshot chunk may wait for room before the snapshot is abandoned (ms). */
  snapshotWriteTimeout: number
}

/** What a peer handler needs from its coordinator (Fabric's MessageHandlerCoordinator, the parts it uses). */
export interface PeerHandlerHost extends SyncSource {
  readonly scheduler: Scheduler
  readonly syncConfig: SyncConfig
  /** peer.discovery.period (ms). */
  readonly discoveryPeriod: number
  newHelloMessage (transport?: string): Promise<Message>
  /** Signs when security is on; otherwise returns `msg` as it is. */
  prepareOutgoing (msg: Message): Promise<Message>
  /** Throws when another handler already serves that peer id. */
  registerHandler (handler: PeerHandler): void
  deregisterHandler (handler: PeerHandler): void
  /** A second chat with a registered peer, kept unlisted (`open` false when it ends). */
  secondaryChat? (handler: PeerHandler, open: boolean): void
  /** The remote said HELLO from `address` (on the chat `handler` runs): remember it for discovery. */
  peerAnnounced (address: string, handler?: PeerHandler): Promise<void>
  getPeers (): PeersMessage
  peersDiscovered (peers: PeersMessage): void
  blockAdded (from: PeerHandler, state: BlockState): void
  remoteDisconnected (handler: PeerHandler): void
}

type State = 'created' | 'established'
const T = Message_Type

/** Which messages each state takes; `to` undefined = stays. Anything else is refused (Fabric's FSM events). */
const transitions = new Map<Message_Type, { from: State[], to?: State }>([
  [T.DISC_HELLO, { from: ['created'], to: 'established' }],
  [T.DISC_DISCONNECT, { from: ['created', 'established'] }],
  ...[T.DISC_GET_PEERS, T.DISC_PEERS, T.SYNC_BLOCK_ADDED, T.SYNC_GET_BLOCKS, T.SYNC_BLOCKS, T.SYNC_STATE_GET_SNAPSHOT,
    T.SYNC_STATE_SNAPSHOT, T.SYNC_STATE_GET_DELTAS, T.SYNC_STATE_DELTAS].map(t => [t, { from: ['established'] as State[] }] as const)
])

/** The last block a peer is known to have: from its HELLO, then from the blocks it announces. */
export interface PeerHead {
  number: number
  hash: Uint8Array
}

/**
 * The peer side of one Chat stream (Fabric's core/peer Handler): the created → established
 * FSM, discovery ticks, and both ends of block / state sync with the remote peer.
 */
export class PeerHandler implements MessageHandler {
  private state: State = 'created'
  private endpoint?: PeerEndpoint
  private registered = false
  private secondary = false
  private stopped = false
  private stopTicker?: () => void
  private readonly blocks: SyncRequest<SyncBlocks>
  private readonly snapshot: SyncRequest<SyncStateSnapshot>
  private readonly deltas: SyncRequest<SyncStateDeltas>
  private lastIgnoredSnapshotCID?: bigint
  /** The remote's chain as it said in HELLO. */
  remoteInfo?: BlockchainInfo
  head?: PeerHead
  /** SYNC_BLOCK_ADDED messages received since HELLO. */
  announced = 0

  constructor (readonly host: PeerHandlerHost, readonly stream: ChatStream, readonly initiatedStream: boolean) {
    const c = host.syncConfig
    this.blocks = new SyncRequest(c.blocksChannelSize, host.scheduler)
    this.snapshot = new SyncRequest(c.snapshotChannelSize, host.scheduler)
    this.deltas = new SyncRequest(c.deltasChannelSize, host.scheduler)
  }

  to (): PeerEndpoint | undefined { return this.endpoint }

  /** For logs: the peer id once known, else the transport's idea of the remote. */
  get name (): string { return this.endpoint?.ID?.name ?? this.stream.remote }

  async handleMessage (msg: Message): Promise<void> {
    const name = typeName(msg.type)
    const t = transitions.get(msg.type)
    if (t === undefined || !t.from.includes(this.state)) {
      throw new Error(`Peer FSM cannot handle message (${name}) with payload size (${msg.payload.length}) while in state: ${this.state}`)
    }
    try {
      await this.before(msg)
    } catch (err) {
      throw new Error(`Peer FSM failed while handling message (${name}): current state: ${this.state}, error: ${(err as Error).message}`)
    }
    if (t.to !== undefined && t.to !== this.state) {
      this.state = t.to
      log.debug(`The Peer's bi-directional stream to ${this.name} is ${t.to}, from event ${name}`)
    }
  }

  async sendMessage (msg: Message): Promise<void> {
    try {
      await this.stream.send(await this.host.prepareOutgoing(msg))
    } catch (err) {
      throw new Error(`Error Sending message through ChatStream: ${(err as Error).message}`)
    }
  }

  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.stopTicker?.()
    this.blocks.close()
    this.snapshot.close()
    this.deltas.close()
    if (this.registered) {
      this.registered = false
      this.host.deregisterHandler(this)
    }
    if (this.secondary) {
      this.secondary = false
      this.host.secondaryChat?.(this, false)
    }
  }

  // --- requests to the remote ledger (Fabric's RemoteLedger) ---

  /** Asks for blocks start..end (inclusive, descending when start > end); answers arrive on the channel. */
  async requestBlocks (start: bigint, end: bigint): Promise<Channel<SyncBlocks>> {
    const ch = this.blocks.reset()
    await this.sendMessage(syncGetBlocksMessage(this.blocks.correlationId, start, end))
    return ch
  }

  /**
   * Asks for blocks start..end beside the block requests still open (state transfer keeps a
   * window of them in flight); answers arrive on its channel until it is closed.
   */
  async openBlockRequest (start: bigint, end: bigint): Promise<OpenRequest<SyncBlocks>> {
    const request = this.blocks.add()
    try {
      await this.sendMessage(syncGetBlocksMessage(request.correlationId, start, end))
    } catch (err) {
      request.close()
      throw err
    }
    return request
  }

  async requestStateSnapshot (): Promise<Channel<SyncStateSnapshot>> {
    const ch = this.snapshot.reset()
    await this.sendMessage(syncGetSnapshotMessage(this.snapshot.correlationId))
    return ch
  }

  async requestStateDeltas (start: bigint, end: bigint): Promise<Channel<SyncStateDeltas>> {
    const ch = this.deltas.reset()
    await this.sendMessage(syncGetDeltasMessage(this.deltas.correlationId, start, end))
    return ch
  }

  // --- the FSM's before_ callbacks ---

  private async before (msg: Message): Promise<void> {
    switch (msg.type) {
      case T.DISC_HELLO: return await this.beforeHello(msg)
      case T.DISC_DISCONNECT: return this.beforeDisconnect()
      case T.DISC_GET_PEERS: return await this.sendMessage(peersMessage(this.host.getPeers().peers))
      case T.DISC_PEERS: return this.host.peersDiscovered(parsePayload(PeersMessageSchema, msg, 'PeersMessage'))
      case T.SYNC_BLOCK_ADDED: return this.host.blockAdded(this, parsePayload(BlockStateSchema, msg, 'BlockState'))
      case T.SYNC_GET_BLOCKS: {
        const range = parsePayload(SyncBlockRangeSchema, msg, 'SyncBlockRange in GetBlocks')
        void sendBlocks(this, this.host, range)
        return
      }
      case T.SYNC_BLOCKS: return this.beforeSyncBlocks(msg)
      case T.SYNC_STATE_GET_SNAPSHOT: {
        const request = parsePayload(SyncStateSnapshotRequestSchema, msg, 'SyncStateSnapshotRequest in beforeSyncStateGetSnapshot')
        void sendStateSnapshot(this, this.host, request)
        return
      }
      case T.SYNC_STATE_SNAPSHOT: return await this.beforeSyncStateSnapshot(msg)
      case T.SYNC_STATE_GET_DELTAS: {
        const request = parsePayload(SyncStateDeltasRequestSchema, msg, 'SyncStateDeltasRequest in beforeSyncStateGetDeltas')
        if (request.range === undefined) throw new Error('SyncStateDeltasRequest carries no range')
        void sendStateDeltas(this, this.host, request.range)
        return
      }
      case T.SYNC_STATE_DELTAS: return this.beforeSyncStateDeltas(msg)
    }
  }

  private async beforeHello (msg: Message): Promise<void> {
    const hello = parsePayload(HelloMessageSchema, msg, 'HelloMessage')
    const ep = hello.peerEndpoint
    if (ep?.ID === undefined || ep.ID.name === '') throw new Error(`HelloMessage from ${this.stream.remote} carries no peer id`)
    this.endpoint = ep
    this.remoteInfo = hello.blockchainInfo
    const height = Number(hello.blockchainInfo?.height ?? 0n)
    if (height > 0) this.head = { number: height - 1, hash: hello.blockchainInfo!.currentBlockHash }
    log.debug(`Received DISC_HELLO from ${ep.ID.name} at ${ep.address} (${this.stream.transport})`)
    if (!this.initiatedStream) await this.sendMessage(await this.host.newHelloMessage(this.stream.transport))
    try {
      this.host.registerHandler(this)
    } catch (err) {
      if (!(err instanceof DuplicateHandlerError)) {
        void this.stream.close(err as Error)
        throw new Error(`Error registering Handler: ${(err as Error).message}`)
      }
      // A second chat with a peer that has one already stays open, as in Fabric (a Fabric peer
      // may have registered this one: it got our HELLO; were it ended, that peer would forget us
      // and redial for good). Unlike Fabric's, whose refused chat stays `created`, it serves the
      // remote's requests (blocks, state, peers): that peer asks for them on the chat it
      // registered, and its state transfer from us would time out otherwise. It is not listed,
      // and nothing is sent on it but answers.
      log.warn(`Keeping a second chat with ${ep.ID.name} at ${ep.address} (${this.stream.transport}) unregistered: ${errorMessage(err)}`)
      this.secondary = true
      this.host.secondaryChat?.(this, true)
      return
    }
    this.registered = true
    await this.host.peerAnnounced(ep.address, this)
    this.stopTicker = every(this.host.scheduler, this.host.discoveryPeriod, () => {
      this.sendMessage(getPeersMessage()).catch(err => log.error(`Error sending DISC_GET_PEERS during handler discovery tick: ${errorMessage(err)}`))
    })
  }

  private beforeDisconnect (): void {
    log.info(`${this.name} said DISC_DISCONNECT; ending the chat`)
    this.host.remoteDisconnected(this)
    void this.stream.close()
  }

  private beforeSyncBlocks (msg: Message): void {
    this.deliverRange(this.blocks, parsePayload(SyncBlocksSchema, msg, 'SyncBlocks in beforeSyncBlocks'), 'SyncBlocks')
  }

  private async beforeSyncStateSnapshot (msg: Message): Promise<void> {
    const chunk = parsePayload(SyncStateSnapshotSchema, msg, 'syncStateSnapshot in beforeSyncStateSnapshot')
    const cid = chunk.request?.correlationId ?? 0n
    if (!this.snapshot.matches(cid)) {
      if (this.lastIgnoredSnapshotCID === undefined || this.lastIgnoredSnapshotCID < cid) {
        log.warn(`Ignoring SyncStateSnapshot message with correlationId = ${cid}, sequence = ${chunk.sequence}, as current correlationId = ${this.snapshot.correlationId}, future messages for this (and older ids) will be suppressed`)
        this.lastIgnoredSnapshotCID = cid
      }
      return
    }
    // Blocking the receive loop here is the back-pressure: the remote waits while we apply.
    if (!await this.snapshot.channel.push(chunk, this.host.syncConfig.snapshotWriteTimeout)) {
      log.warn(`Did NOT send SyncStateSnapshot message to channel for correlationId = ${cid}, sequence = ${chunk.sequence} because we timed out reading, closing channel as the message has been discarded`)
      this.snapshot.reset()
    }
  }

  private beforeSyncStateDeltas (msg: Message): void {
    this.deliverRange(this.deltas, parsePayload(SyncStateDeltasSchema, msg, 'SyncStateDeltas in beforeSyncStateDeltas'), 'SyncStateDeltas')
  }

  /** A SyncBlocks or SyncStateDeltas answer goes to its request's channel; one that finds the channel full ends the request. */
  private deliverRange<T extends { range?: SyncBlockRange }> (request: SyncRequest<T>, answer: T, what: string): void {
    const r = answer.range
    if (r === undefined) throw new Error(`${what} carries no range`)
    const channel = request.channelOf(r.correlationId)
    if (channel === undefined) {
      log.warn(`Ignoring ${what} message with correlationId = ${r.correlationId}, blocks ${r.start} to ${r.end}, as current correlationId = ${request.correlationId}`)
    } else if (!channel.tryPush(answer)) {
      log.warn(`Did NOT send ${what} message to channel for block range ${r.start}-${r.end}, closing channel as the message has been discarded`)
      request.end(r.correlationId)
    }
  }
}

/** Fabric's NewPeerHandler, as the default HandlerFactory (consensus wraps it to take CONSENSUS messages). */
export const newPeerHandler: HandlerFactory<PeerHandlerHost> = (host, stream, initiatedStream) => new PeerHandler(host, stream, initiatedStream)
