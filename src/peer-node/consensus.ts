import { executeQuery, executeTransactions, type ExecutionContext, type ExecutionObserver } from '../chaincode/executor.ts'
import { withOverrides } from '../config/overrides.ts'
import type { CoreConfig } from '../config/schema.ts'
import { consensusInit } from '../consensus/core-config.ts'
import { ConsensusEngine } from '../consensus/engine.ts'
import { StateTransferError } from '../consensus/interfaces.ts'
import { PbftBatch, type PbftBatchStatus } from '../consensus/pbft/batch.ts'
import { replicaName, ValidatorSet, type ValidatorEntry } from '../consensus/validators.ts'
import type { Ledger } from '../ledger/ledger.ts'
import type { PeerPlatform } from '../peer-platform.ts'
import { newPeerHandler } from '../peer/handler.ts'
import type { Peer } from '../peer/peer.ts'
import { PeerEndpoint_Type, type Transaction } from '../protos/fabric_pb.ts'
import type { NodeSecurity } from '../security/member.ts'
import type { EnrollmentSigning } from '../security/node-signing.ts'
import { preValidateTransaction } from '../security/transactions.ts'
import { errorMessage } from '../util/errors.ts'
import type { Logger } from '../util/logger.ts'
import type { PeerChaincode } from './chaincode.ts'
import type { PeerConnection } from './status.ts'

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

/** What a validator's consensus runs on. */
export interface ConsensusParts {
  config: CoreConfig
  platform: PeerPlatform
  log: Logger
  ledger: Ledger
  peer: Peer
  chaincode: PeerChaincode
  /** security.enabled with membership services: how transactions are checked, and how view changes are signed. */
  security?: { node: NodeSecurity, signing: EnrollmentSigning }
  /** Hears every transaction execution rejects. */
  onRejection: (tx: Transaction, error: string) => void
  observer: ExecutionObserver
  /** Consensus met a condition it cannot survive (Fabric panics). */
  onFatal: (err: Error) => void
}

/**
 * A validator's consensus: its validator set and engine, executing transactions with the
 * peer's chaincode and taking the peer's transactions and Chat streams.
 */
export class ValidatorConsensus {
  private constructor (readonly engine: ConsensusEngine, private readonly validators: ValidatorSet, private readonly config: CoreConfig) {}

  static async create (p: ConsensusParts): Promise<ValidatorConsensus> {
    const { config, platform, ledger, peer, log } = p
    const security = p.security
    const preExecute = p.chaincode.preExecute
    const ctx: ExecutionContext = {
      support: p.chaincode.support,
      preValidate: security === undefined || preExecute === undefined
        ? undefined
        : tx => {
          preValidateTransaction(tx, security.node.verifier)
          return preExecute(tx)
        },
      onRejection: p.onRejection,
      observer: p.observer
    }
    const listed = platform.identity?.validators
    // Without a list, PBFT's validators are Fabric's: vp0 … vp(N-1), known by the names their HELLOs give.
    const members = listed ?? (config.peer.validator.consensus.plugin === 'pbft'
      ? Array.from({ length: config.pbft.general.N }, (_, i) => ({ name: replicaName(i) }))
      : undefined)
    const validators = new ValidatorSet(config.peer.id, members ?? [{ name: config.peer.id }], members === undefined)
    const engine = await ConsensusEngine.create(consensusInit(config), {
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
      security: security?.signing.consensus(config.peer.id, name => peer.handlerFor(name)?.to()?.pkiID) ?? platform.identity?.consensusSecurity,
      scheduler: platform.scheduler,
      random: platform.random,
      onFatal: p.onFatal
    })
    peer.useEngine({
      processTransaction: tx => engine.processTransaction(tx),
      getHandlerFactory: () => engine.handlerFactory(newPeerHandler)
    })
    return new ValidatorConsensus(engine, validators, config)
  }

  /** `connections`: the peer's chats, of which the validators' count as live. */
  status (connections: PeerConnection[]): ConsensusStatus {
    const set = this.validators
    const live = [set.self, ...connections.filter(c => c.type === PeerEndpoint_Type.VALIDATOR && set.has(c.name)).map(c => c.name)]
    const consenter = this.engine.consenter
    if (!(consenter instanceof PbftBatch)) {
      return { plugin: 'noops', N: set.open ? live.length : set.validators.length, f: 0, liveValidators: live }
    }
    const { N, f } = this.config.pbft.general
    return { plugin: 'pbft', N, f, liveValidators: live, pbft: consenter.status() }
  }

  /** Asks PBFT for the next view; false when the consenter is no PBFT. */
  requestViewChange (): boolean {
    const consenter = this.engine.consenter
    if (!(consenter instanceof PbftBatch)) return false
    consenter.requestViewChange()
    return true
  }
}

/**
 * A listed PBFT network fixes N; f stays as configured when the config was written for that N,
 * else it is the most N replicas tolerate. Every platform gets N and f here, once.
 */
export function pbftNetwork (config: CoreConfig, listed: ValidatorEntry[] | undefined, log: Logger): CoreConfig {
  const { N } = config.pbft.general
  if (listed === undefined || config.peer.validator.consensus.plugin !== 'pbft' || listed.length === N) return config
  const f = Math.floor((listed.length - 1) / 3)
  log.info(`PBFT network of ${listed.length} listed validators (general.N was ${N}): N = ${listed.length}, f = ${f}`)
  return withOverrides(config, { pbft: { general: { N: listed.length, f } } })
}
