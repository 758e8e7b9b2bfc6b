import type { BlockchainInfo } from '../protos/fabric_pb.ts'
import type { Ledger } from '../ledger/ledger.ts'
import { createLogger } from '../util/logger.ts'
import type { Scheduler } from '../util/scheduler.ts'
import { createExecutor, type ConsensusExecutor } from './executor.ts'
import type { Communicator, ExecutionConsumer, Inquirer, SecurityUtils, Stack, StateTransfer, TxExecutor } from './interfaces.ts'
import { ledgerStack } from './ledger-stack.ts'
import { ConsensusPersistor } from './persist.ts'

const log = createLogger('consensus/helper')

/** Fabric with security.enabled false: a "signature" is the data itself and every one verifies. */
export const securityDisabled: SecurityUtils = {
  sign: data => data,
  verify: () => {}
}

export interface HelperInit {
  /** executor.queuesize */
  executorQueueSize?: number
  stateTransferAttempts?: number
  stateTransferRetryMs?: number
  /** The executor runs a txid once (PBFT's executeOnce extension; default true). */
  executeOnce?: boolean
  /** For logs. */
  name?: string
}

/** What the composition root hands to consensus. */
export interface HelperComponents {
  ledger: Ledger
  communicator: Communicator
  inquirer: Inquirer
  /** Chaincode execution of a batch (e.g. ChaincodeSupport's executeTransactions). */
  executeTransactions: TxExecutor
  /** The peer layer's state transfer. */
  stateTransfer: StateTransfer
  /** Default: security disabled, as Fabric without security.enabled. */
  security?: SecurityUtils
  scheduler: Scheduler
}

/**
 * Fabric's consensus/helper: builds the Stack a plugin uses from the peer's parts (ledger,
 * communicator, executor, persistence) and forwards executor callbacks to the plugin. It also
 * tracks whether the state is current, which decides whether queries are answered.
 */
export class ConsensusHelper implements ExecutionConsumer {
  readonly stack: Stack
  readonly executor: ConsensusExecutor
  private consenter?: ExecutionConsumer
  private stateValid = true

  constructor (init: HelperInit, components: HelperComponents) {
    this.executor = createExecutor(
      { queueSize: init.executorQueueSize, stateTransferAttempts: init.stateTransferAttempts, stateTransferRetryMs: init.stateTransferRetryMs, name: init.name, executeOnce: init.executeOnce },
      { ledger: components.ledger, executeTransactions: components.executeTransactions, stateTransfer: components.stateTransfer, consumer: this, scheduler: components.scheduler })
    this.stack = {
      communicator: components.communicator,
      inquirer: components.inquirer,
      security: components.security ?? securityDisabled,
      executor: this.executor,
      ledger: ledgerStack(components.ledger),
      persist: new ConsensusPersistor(components.ledger.cols.store),
      ledgerManager: {
        invalidateState: () => { log.debug('invalidating the current state'); this.stateValid = false },
        validateState: () => { log.debug('validating the current state'); this.stateValid = true }
      }
    }
  }

  /** Whether the ledger is believed current (PBFT invalidates it while it catches up). */
  get valid (): boolean { return this.stateValid }

  /** Starts the executor once there is someone to call back: a state transfer may complete right away. */
  setConsenter (consenter: ExecutionConsumer): void {
    this.consenter = consenter
    this.executor.start()
  }

  async stop (): Promise<void> {
    await this.executor.stop()
    await this.stack.persist.flush()
  }

  executed (tag: unknown): void { this.consenter?.executed(tag) }
  committed (tag: unknown, info: BlockchainInfo): void { this.consenter?.committed(tag, info) }
  rolledBack (tag: unknown): void { this.consenter?.rolledBack(tag) }
  stateUpdated (tag: unknown, info: BlockchainInfo | undefined): void { this.consenter?.stateUpdated(tag, info) }
  executionFailed (tag: unknown, err: Error): void { this.consenter?.executionFailed(tag, err) }
}
