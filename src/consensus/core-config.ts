import type { CoreConfig } from '../config/schema.ts'
import type { EngineInit } from './engine.ts'
import { defaultNoopsConfig } from './noops/config.ts'
import { extensionsWithout, validatePbftConfig } from './pbft/config.ts'

/** The engine's settings from the peer's config (core.yaml, CORE_*, CORE_NOOPS_*, CORE_PBFT_*). */
export function consensusInit (config: CoreConfig): EngineInit {
  const { noops, pbft } = config
  const g = pbft.general
  return {
    plugin: config.peer.validator.consensus.plugin,
    bufferSize: config.peer.validator.consensus.buffersize,
    noops: { ...defaultNoopsConfig, blockSize: noops.block.size, blockWaitMs: noops.block.wait, queueLimit: Math.max(defaultNoopsConfig.queueLimit, 10 * noops.block.size) },
    pbft: validatePbftConfig({
      mode: 'batch',
      N: g.N,
      f: g.f,
      K: g.K,
      logMultiplier: g.logmultiplier,
      batchSize: g.batchsize,
      byzantine: g.byzantine,
      viewChangePeriod: g.viewchangeperiod,
      timeouts: {
        batch: g.timeout.batch,
        request: g.timeout.request,
        viewChange: g.timeout.viewchange,
        resendViewChange: g.timeout.resendviewchange,
        nullRequest: g.timeout.nullrequest,
        broadcast: g.timeout.broadcast
      },
      executorQueueSize: pbft.executor.queuesize,
      extensions: extensionsWithout(pbft.weft.disable)
    })
  }
}
