import { loadConfig, withOverrides, type CoreConfig } from '../../src/config/index.ts'
import { pbftExtensionNames } from '../../src/config/schema.ts'
import type { PbftConfig } from '../../src/consensus/pbft/config.ts'

const defaults = loadConfig()

export interface ReplicaSettings {
  name: string
  pbft: PbftConfig
  /** Whom it dials at start and redials when a chat is gone. */
  rootNodes: string[]
  /** The bucket tree's shape. */
  ledger: { numBuckets: number, maxGroupingAtEachLevel: number }
}

/** A validator's config: Fabric's defaults, PBFT as the simulation asks, NODE chaincode run by the peer. */
export function replicaConfig ({ name, pbft, rootNodes, ledger }: ReplicaSettings): CoreConfig {
  const t = pbft.timeouts
  return withOverrides(defaults, {
    peer: {
      id: name,
      networkId: 'sim',
      validator: { enabled: true, consensus: { plugin: 'pbft' } },
      // A chat cut by a partition or a crash comes back within a second of the cause going away.
      discovery: { rootnode: rootNodes.join(','), touchPeriod: 1000 }
    },
    chaincode: { mode: 'net' },
    ledger: { state: { dataStructure: { name: 'buckettree', configs: ledger } } },
    pbft: {
      general: {
        N: pbft.N,
        f: pbft.f,
        K: pbft.K,
        logmultiplier: pbft.logMultiplier,
        batchsize: pbft.batchSize,
        byzantine: pbft.byzantine,
        viewchangeperiod: pbft.viewChangePeriod,
        timeout: { batch: t.batch, request: t.request, viewchange: t.viewChange, resendviewchange: t.resendViewChange, nullrequest: t.nullRequest, broadcast: t.broadcast }
      },
      executor: { queuesize: pbft.executorQueueSize },
      weft: { disable: pbftExtensionNames.filter(n => !pbft.extensions[n]) }
    }
  })
}
