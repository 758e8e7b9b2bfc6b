// A PBFT core with a recording stack and inert timers (Fabric's omniProto + inertTimerFactory).
import { create, toBinary } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import { utf8 } from '../../src/crypto/bytes.ts'
import type { StatePersistor } from '../../src/consensus/interfaces.ts'
import { defaultPbftConfig, validatePbftConfig, type PbftConfig } from '../../src/consensus/pbft/config.ts'
import { PbftCore } from '../../src/consensus/pbft/core.ts'
import type { InnerStack } from '../../src/consensus/pbft/inner-stack.ts'
import type { CoreEvent, CoreTimer, StateTarget } from '../../src/consensus/pbft/events.ts'
import { newRequestBatch, type PbftMessage, type RequestBatch } from '../../src/consensus/pbft/messages.ts'
import { emptyPersistedState, PbftStore, type PersistedPbftState } from '../../src/consensus/pbft/persist.ts'
import type { ReplicaState } from '../../src/consensus/pbft/state.ts'
import { TransactionSchema } from '../../src/protos/fabric_pb.ts'
import { requestSchema } from '../../src/protos/pbft_pb.ts'

/** A StatePersistor over a Map, synchronous underneath. */
export function mapPersistor (map = new Map<string, Uint8Array>()): StatePersistor & { map: Map<string, Uint8Array> } {
  return {
    map,
    storeState: (k, v) => { map.set(k, v) },
    delState: k => { map.delete(k) },
    readState: async k => map.get(k),
    readStateSet: async prefix => new Map([...map].filter(([k]) => k.startsWith(prefix))),
    flush: async () => {}
  }
}

/** Fabric's createPbftReqBatch(tag, replica): one request whose payload is a transaction `tag`. */
export function reqBatch (tag: number, replica = 0): RequestBatch {
  const tx = create(TransactionSchema, { txid: `tx${tag}`, payload: utf8(`k=${tag}`) })
  return newRequestBatch([create(requestSchema, { timestamp: timestampFromMs(tag), payload: toBinary(TransactionSchema, tx), replicaId: BigInt(replica) })])
}

export interface MockCore {
  core: PbftCore
  state: ReplicaState
  broadcasts: PbftMessage[]
  unicasts: Array<{ msg: PbftMessage, to: number }>
  executions: Array<{ seqNo: number, batch: RequestBatch }>
  skips: StateTarget[]
  posted: CoreEvent[]
  fatals: Error[]
  persistor: ReturnType<typeof mapPersistor>
  /** Fabric's events.SendEvent: processes an event and whatever it leads to. */
  send: (e: CoreEvent) => void
}

export const inertTimer = (): CoreTimer => ({ softReset () {}, reset () {}, stop () {} })

export function mockCore (id: number, opts: {
  config?: Partial<PbftConfig>
  stack?: Partial<InnerStack>
  persistor?: ReturnType<typeof mapPersistor>
  persisted?: PersistedPbftState
  lastExec?: number
  createTimer?: () => CoreTimer
} = {}): MockCore {
  const m: Omit<MockCore, 'core' | 'state' | 'send'> = { broadcasts: [], unicasts: [], executions: [], skips: [], posted: [], fatals: [], persistor: opts.persistor ?? mapPersistor() }
  const consumer: InnerStack = {
    broadcast: msg => m.broadcasts.push(msg),
    unicast: (msg, to) => m.unicasts.push({ msg, to }),
    execute: (seqNo, batch) => m.executions.push({ seqNo, batch }),
    getState: () => utf8('state'),
    skipTo: t => m.skips.push(t),
    sign: d => d,
    verify: () => {},
    invalidateState: () => {},
    validateState: () => {},
    ...opts.stack
  }
  const config = validatePbftConfig({ ...defaultPbftConfig, ...opts.config })
  const core = new PbftCore({ id, config, lastExec: opts.lastExec ?? 0, persisted: opts.persisted ?? emptyPersistedState() }, {
    consumer,
    store: new PbftStore(m.persistor, opts.persisted),
    createTimer: opts.createTimer ?? inertTimer,
    post: e => m.posted.push(e),
    random: () => 0.5,
    onFatal: err => m.fatals.push(err)
  })
  const send = (e: CoreEvent): void => {
    let next: CoreEvent | undefined = e
    while (next !== undefined) next = core.processEvent(next)
  }
  return { ...m, core, state: core.state, send }
}
