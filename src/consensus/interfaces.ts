import type { Timestamp } from '@bufbuild/protobuf/wkt'
import type { Block, BlockchainInfo, Message, PeerEndpoint_Type, PeerID, Transaction, TransactionResult } from '../protos/fabric_pb.ts'

/**
 * The contracts between a consensus plugin and the rest of the peer, after Fabric's
 * consensus/consensus.go. The composition root builds the narrow inputs (a Communicator,
 * a transaction executor, a state-transfer callback) and the helper assembles the Stack.
 */

/** Callbacks from the asynchronous executor into the plugin. */
export interface ExecutionConsumer {
  /** An `execute` finished; the transactions sit in the open batch. */
  executed (tag: unknown): void
  /** A `commit` finished; `info` describes the chain after it. */
  committed (tag: unknown, info: BlockchainInfo): void
  /** A `rollback` finished. */
  rolledBack (tag: unknown): void
  /** State transfer finished; `info` undefined means the target could not be reached. */
  stateUpdated (tag: unknown, info: BlockchainInfo | undefined): void
  /** Execute or commit failed for a reason other than a failing transaction (storage, runtime): the batch was rolled back. */
  executionFailed (tag: unknown, err: Error): void
}

/** A consensus plugin: receives messages from the network and executor callbacks. */
export interface Consenter extends ExecutionConsumer {
  /**
   * Takes CHAIN_TRANSACTION (from this peer) and CONSENSUS (from validators) messages, one at a
   * time in arrival order. Throws when the message cannot be taken (malformed, plugin stopped).
   */
  recvMsg (msg: Message, sender: PeerID): void
  /**
   * Takes a transaction from this peer's client as it is, instead of marshaled into a
   * CHAIN_TRANSACTION message (a plugin that needs its bytes only to pass them on). Throws as recvMsg.
   */
  submit? (tx: Transaction, timestamp: Timestamp): void
  /**
   * Resolves once a client transaction can be taken (a full queue holds its clients, as Fabric's
   * blocking channel does, instead of refusing them at once); rejects with the refusal when no
   * room came within the consenter's bound. Absent: always room.
   */
  room? (): Promise<void>
  start (): void
  stop (): Promise<void>
}

/** Sends messages to other peers (the peer coordinator's Broadcast/Unicast). */
export interface Communicator {
  /** To every connected peer of that type (never to this peer itself). */
  broadcast (msg: Message, peerType: PeerEndpoint_Type): Promise<void>
  /** Whether a broadcast to `peerType` would reach any peer now (absent: assume so); nobody's message need not be built. */
  reaches? (peerType: PeerEndpoint_Type): boolean
  /** To one peer; rejects when it is not connected or the send fails. */
  unicast (msg: Message, receiver: PeerID): Promise<void>
  /** Whether a chat with `receiver` is up (absent: assume so). */
  connected? (receiver: PeerID): boolean
  /** Calls `listener` whenever a peer connects or goes away; returns the function that stops it. */
  onPeersChanged? (listener: () => void): () => void
}

/** Who the validating network is: this peer's handle and every validator's, this peer included. */
export interface Inquirer {
  getNetworkHandles (): { self: PeerID, network: PeerID[] }
}

/** Signing for messages that carry signatures (PBFT view-change). */
export interface SecurityUtils {
  sign (data: Uint8Array): Uint8Array
  /** Throws when `signature` is not `signer`'s signature over `data`. */
  verify (signer: PeerID, signature: Uint8Array, data: Uint8Array): void
}

/** Fabric's consensus.Executor: ordered, asynchronous use of the ledger, coordinated with state transfer. */
export interface Executor {
  start (): void
  stop (): Promise<void>
  /** Executes transactions into the open batch (opening one if needed). */
  execute (tag: unknown, txs: Transaction[]): void
  /** Commits the open batch as the next block with this consensus metadata. */
  commit (tag: unknown, metadata: Uint8Array | undefined): void
  rollback (tag: unknown): void
  /** Brings the ledger to block `target.height - 1` with hash `target.currentBlockHash`, from `peers` first. */
  updateState (tag: unknown, target: BlockchainInfo, peers: PeerID[] | undefined): void
}

/**
 * Runs a batch's transactions against the ledger's open batch (chaincode). One result per
 * transaction, failed ones included. `batch`, when given, is the same object for every part of
 * one ledger batch, which nothing else changes between its parts (src/chaincode/executor.ts).
 */
export type TxExecutor = (txs: Transaction[], batch?: object) => Promise<{ succeeded: Transaction[], results: TransactionResult[] }>

/** Raised by a StateTransfer; `recoverable` means trying again (with other peers) may work. */
export class StateTransferError extends Error {
  constructor (message: string, readonly recoverable: boolean, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StateTransferError'
  }
}

/** The peer layer's state transfer: fetch blocks and state up to block `blockNumber` whose hash is `blockHash`. */
export interface StateTransfer {
  syncToTarget (blockNumber: number, blockHash: Uint8Array, peers: PeerID[] | undefined, signal: AbortSignal): Promise<void>
}

/** Read access to the ledger for plugins (Fabric's ReadOnlyLedger plus the state hash). */
export interface LedgerStack {
  getBlock (n: number): Promise<Block | undefined>
  getBlockchainSize (): number
  getBlockchainInfo (): Promise<BlockchainInfo>
  /** The marshaled BlockchainInfo: PBFT's checkpoint id. */
  getBlockchainInfoBlob (): Promise<Uint8Array>
  /** consensusMetadata of the newest block (empty for genesis). */
  getBlockHeadMetadata (): Promise<Uint8Array>
  getCurrentStateHash (): Promise<Uint8Array | undefined>
  /** Whether a committed block holds a transaction with this id. */
  hasTransaction (txid: string): Promise<boolean>
}

/** Consensus state that must survive a crash, kept under `consensus.` in the persist column. */
export interface StatePersistor {
  storeState (key: string, value: Uint8Array): void
  delState (key: string): void
  readState (key: string): Promise<Uint8Array | undefined>
  readStateSet (prefix: string): Promise<Map<string, Uint8Array>>
  /** Resolves when every store/delete issued so far is written. */
  flush (): Promise<void>
}

/** Tells the peer whether its state is current (queries are refused while it is not). */
export interface LedgerManager {
  invalidateState (): void
  validateState (): void
}

/** Everything a plugin may use (Fabric's consensus.Stack). */
export interface Stack {
  communicator: Communicator
  inquirer: Inquirer
  security: SecurityUtils
  executor: Executor
  ledger: LedgerStack
  persist: StatePersistor
  ledgerManager: LedgerManager
}
