import { createLogger } from '../../util/logger.ts'
import { replicaIdOf } from '../validators.ts'
import { PbftBatch, type PbftComponents } from './batch.ts'
import type { PbftConfig } from './config.ts'
import { decodeMetadata } from './messages.ts'
import { PbftStore } from './persist.ts'
import { errorMessage } from '../../util/errors.ts'

const log = createLogger('consensus/pbft')

export interface PbftInit {
  /** This replica's name, `vpN`. */
  self: string
  config: PbftConfig
  /** Messages that may wait per replica to be sent (default: peer.validator.consensus.buffersize's default, 1000). */
  sendQueueSize?: number
}

/**
 * Creates the PBFT consenter (Fabric's obcBatch): reads the persisted PBFT state and the ledger
 * head, then builds the replica. Call start() to begin (it first confirms its own state).
 */
export async function createPbftConsenter (init: PbftInit, components: PbftComponents): Promise<PbftBatch> {
  const id = replicaIdOf(init.self)
  if (id >= init.config.N) throw new Error(`replica ${init.self} is outside the network of general.N = ${init.config.N} replicas`)
  const { ledger, persist } = components.stack
  const persisted = await PbftStore.load(persist)
  let lastExec = 0
  const metadata = await ledger.getBlockHeadMetadata()
  if (metadata.length > 0) {
    try {
      lastExec = decodeMetadata(metadata)
    } catch (err) {
      log.warn(`Replica ${id} could not restore lastExec from the newest block's consensus metadata: ${errorMessage(err)}`)
    }
  }
  const info = await ledger.getBlockchainInfo()
  return new PbftBatch(id, init.config, components, persisted, lastExec, info, init.sendQueueSize)
}

