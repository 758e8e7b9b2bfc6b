import { create } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import { ResponseSchema, Response_StatusCode, Transaction_Type, type Response, type Transaction } from '../protos/fabric_pb.ts'
import type { HandlerFactory } from '../peer/message-handler.ts'
import { chainTransactionMessage } from '../peer/messages.ts'
import { utf8 } from '../crypto/bytes.ts'
import { createLogger } from '../util/logger.ts'
import { systemRandom, systemScheduler, type Random } from '../util/scheduler.ts'
import { defaultConsensusQueueSize, MessageFan } from './fan.ts'
import { ConsensusHandler } from './handler.ts'
import { ConsensusHelper, type HelperComponents } from './helper.ts'
import type { Consenter } from './interfaces.ts'
import { defaultNoopsConfig, type NoopsConfig } from './noops/config.ts'
import { Noops } from './noops/noops.ts'
import { createPbftConsenter } from './pbft/plugin.ts'
import { defaultPbftConfig, type PbftConfig } from './pbft/config.ts'
import type { ValidatorSet } from './validators.ts'

const log = createLogger('consensus/engine')

export interface EngineInit {
  /** peer.validator.consensus.plugin: "pbft", anything else is noops (as Fabric's controller). */
  plugin: string
  /** peer.validator.consensus.buffersize: each connection's channel (default 1000). */
  bufferSize?: number
  noops?: NoopsConfig
  pbft?: PbftConfig
  /** State transfer attempts before giving up on a target, and the pause between them. */
  stateTransferAttempts?: number
  stateTransferRetryMs?: number
}

export interface EngineComponents extends Omit<HelperComponents, 'inquirer' | 'scheduler'> {
  /** The validating network; this peer's name is its replica name. */
  validators: ValidatorSet
  scheduler?: HelperComponents['scheduler']
  random?: Random
  /** Runs a query locally (queries never go through consensus). */
  query?: (tx: Transaction) => Promise<Uint8Array>
  /** PBFT met a condition it cannot survive and stopped (Fabric panics): the peer should shut down. */
  onFatal?: (err: Error) => void
}

/**
 * Fabric's consensus engine (helper.EngineImpl): the consenter, its helper, and the message fan
 * that merges every connection's CONSENSUS messages into one ordered input.
 */
export class ConsensusEngine {
  readonly fan = new MessageFan()
  private readonly bufferSize: number

  private constructor (
    readonly helper: ConsensusHelper,
    readonly consenter: Consenter,
    private readonly components: EngineComponents,
    bufferSize: number
  ) {
    this.bufferSize = bufferSize
  }

  static async create (init: EngineInit, components: EngineComponents): Promise<ConsensusEngine> {
    const scheduler = components.scheduler ?? systemScheduler
    const self = components.validators.self
    const helper = new ConsensusHelper(
      { executorQueueSize: init.pbft?.executorQueueSize, executeOnce: init.pbft?.extensions.executeOnce, stateTransferAttempts: init.stateTransferAttempts, stateTransferRetryMs: init.stateTransferRetryMs, name: self },
      { ...components, inquirer: components.validators, scheduler })
    let consenter: Consenter
    if (init.plugin.toLowerCase() === 'pbft') {
      log.info('Creating consensus plugin pbft')
      consenter = await createPbftConsenter({ self, config: init.pbft ?? defaultPbftConfig, sendQueueSize: init.bufferSize }, {
        stack: helper.stack, timers: scheduler, random: components.random ?? systemRandom, onFatal: components.onFatal
      })
    } else {
      log.info('Creating default consensus plugin (noops)')
      consenter = new Noops(init.noops ?? defaultNoopsConfig, { stack: helper.stack, scheduler })
    }
    helper.setConsenter(consenter)
    return new ConsensusEngine(helper, consenter, components, init.bufferSize ?? defaultConsensusQueueSize)
  }

  start (): void {
    this.fan.start(({ msg, sender }) => this.consenter.recvMsg(msg, sender))
    this.consenter.start()
  }

  async stop (): Promise<void> {
    this.fan.stop()
    await this.consenter.stop()
    await this.helper.stop()
  }

  /** Fabric's GetHandlerFactory: wraps the peer's handler factory so CONSENSUS messages reach the fan. */
  handlerFactory<C> (peerHandlers: HandlerFactory<C>): HandlerFactory<C> {
    return (coordinator, stream, initiated) => {
      const inner = peerHandlers(coordinator, stream, initiated)
      return new ConsensusHandler(inner, this.fan.addChannel(stream.remote, this.bufferSize), stream, this.components.validators)
    }
  }

  /**
   * Fabric's ProcessTransactionMsg: a query runs locally (refused while the state is being caught
   * up); anything else goes to the consenter and is answered with its txid once accepted.
   */
  async processTransaction (tx: Transaction): Promise<Response> {
    const failure = (text: string): Response => create(ResponseSchema, { status: Response_StatusCode.FAILURE, msg: utf8(text) })
    if (tx.type === Transaction_Type.CHAINCODE_QUERY) {
      if (!this.helper.valid) {
        log.warn('Rejecting query because state is currently not valid')
        return failure('Error: state may be inconsistent, cannot query')
      }
      if (this.components.query === undefined) return failure('Error: this peer cannot run queries')
      try {
        return create(ResponseSchema, { status: Response_StatusCode.SUCCESS, msg: await this.components.query(tx) })
      } catch (err) {
        return failure(`Error:${(err as Error).message}`)
      }
    }
    const scheduler = this.components.scheduler ?? systemScheduler
    const timestamp = timestampFromMs(scheduler.now())
    try {
      await this.consenter.room?.()
      if (this.consenter.submit !== undefined) this.consenter.submit(tx, timestamp)
      else this.consenter.recvMsg(chainTransactionMessage(tx, timestamp), this.components.validators.getNetworkHandles().self)
    } catch (err) {
      return failure((err as Error).message)
    }
    return create(ResponseSchema, { status: Response_StatusCode.SUCCESS, msg: utf8(tx.txid) })
  }

  /** Whether the ledger is believed current. */
  get stateValid (): boolean { return this.helper.valid }
}
