import { ConfigError } from '../../config/load.ts'
import { pbftExtensionNames } from '../../config/schema.ts'
import { createLogger } from '../../util/logger.ts'

const log = createLogger('consensus/pbft')

/**
 * Weft's PBFT behaviours that Fabric 0.6.1 lacks and that a replica can do without
 * (src/consensus/README.md says why each exists):
 * - retransmit: resends its own unexecuted requests every request timeout;
 * - dropDuplicateRequests: a request it already holds is not batched again (Fabric's primary
 *   batches every copy it receives);
 * - viewSync: sends the current new-view to a replica still in an older view, and adopts a
 *   new-view that f+1 replicas relayed; asks for a higher view f+1 replicas are ordering in;
 * - holdFutureViews: keeps pre-prepares, prepares and commits for a view not entered yet;
 * - lateJoin: having joined a view late, waits for the next checkpoint instead of starting a
 *   view change on its own;
 * - earlyStateTransfer: transfers state as soon as f+1 replicas checkpoint past what it can
 *   execute, and at once from the checkpoints that showed it is out of date;
 * - executeOnce: a transaction whose txid is already on the chain is not run again. This one
 *   decides what blocks hold, so it must be the same on every replica of a network;
 * - timerGrace: when its request timer expires, gives what has already arrived a quarter of the
 *   request timeout to commit before leaving the view (a busy replica runs its timers before
 *   reading its input, and a view change it starts alone takes it out of ordering).
 */
export type PbftExtension = typeof pbftExtensionNames[number]
export type PbftExtensions = Readonly<Record<PbftExtension, boolean>>

export const allPbftExtensions: PbftExtensions = Object.freeze({
  retransmit: true, dropDuplicateRequests: true, viewSync: true, holdFutureViews: true, lateJoin: true, earlyStateTransfer: true, executeOnce: true, timerGrace: true
})
/** A replica that follows Fabric 0.6.1's rules only (for mixed networks and their simulation). */
export const fabricRulesOnly: PbftExtensions = Object.freeze({
  retransmit: false, dropDuplicateRequests: false, viewSync: false, holdFutureViews: false, lateJoin: false, earlyStateTransfer: false, executeOnce: false, timerGrace: false
})

/** The extensions left on with `names` (from pbft.weft.disable: extension names, or `all` for Fabric's rules only) switched off. */
export function extensionsWithout (names: ReadonlyArray<PbftExtension | 'all'>): PbftExtensions {
  if (names.includes('all')) return fabricRulesOnly
  const out: Record<PbftExtension, boolean> = { ...allPbftExtensions }
  for (const name of names as readonly PbftExtension[]) out[name] = false
  return out
}

/** consensus/pbft/config.yaml, read; durations in milliseconds. */
export interface PbftConfig {
  mode: 'batch'
  /** Replicas in the network (general.N). */
  N: number
  /** Byzantine replicas tolerated (general.f). */
  f: number
  /** Checkpoint period (general.K). */
  K: number
  /** Log size L = K · logmultiplier. */
  logMultiplier: number
  batchSize: number
  /** Act byzantine (drop a random replica from about a third of broadcasts): for testnets. */
  byzantine: boolean
  /** Cycle the primary every this many checkpoint periods; 0 = never. */
  viewChangePeriod: number
  timeouts: {
    batch: number
    request: number
    viewChange: number
    resendViewChange: number
    /** 0 = no null requests. */
    nullRequest: number
    broadcast: number
  }
  executorQueueSize: number
  /** Weft's own behaviours, each on by default; Weft's key weft.disable (CORE_PBFT_WEFT_DISABLE) lists those switched off. */
  extensions: PbftExtensions
}

/** Fabric 0.6.1's config.yaml values. */
export const defaultPbftConfig: PbftConfig = Object.freeze({
  mode: 'batch',
  N: 4,
  f: 1,
  K: 10,
  logMultiplier: 4,
  batchSize: 500,
  byzantine: false,
  viewChangePeriod: 0,
  timeouts: Object.freeze({ batch: 1000, request: 2000, viewChange: 2000, resendViewChange: 2000, nullRequest: 0, broadcast: 1000 }),
  executorQueueSize: 30,
  extensions: allPbftExtensions
})

/**
 * Checks a config and applies Fabric's adjustments: the request timeout must exceed the batch
 * timeout and the null request timeout the request timeout, else they are raised to 1.5×.
 * Throws ConfigError naming the key; loadConfig already refuses a single bad value, so from
 * config only the N/f rule fails here.
 */
export function validatePbftConfig (c: PbftConfig): PbftConfig {
  const fail = (msg: string): never => { throw new ConfigError(msg) }
  if (c.f < 0 || c.N < 1) fail(`pbft.general.N (${c.N}) must be at least 1 and pbft.general.f (${c.f}) at least 0`)
  if (c.f * 3 + 1 > c.N) fail(`need at least ${c.f * 3 + 1} replicas to tolerate ${c.f} byzantine faults (pbft.general.f), but only ${c.N} replicas configured (pbft.general.N)`)
  if (c.K < 1) fail(`pbft.general.K (checkpoint period) must be at least 1, got ${c.K}`)
  if (c.logMultiplier < 2) fail(`pbft.general.logmultiplier must be at least 2, got ${c.logMultiplier}`)
  if (c.batchSize < 1) fail(`pbft.general.batchsize must be at least 1, got ${c.batchSize}`)
  if (c.viewChangePeriod < 0) fail(`pbft.general.viewchangeperiod must not be negative, got ${c.viewChangePeriod}`)
  if (c.executorQueueSize < 1) fail(`pbft.executor.queuesize must be at least 1, got ${c.executorQueueSize}`)
  for (const [k, v] of Object.entries(c.timeouts)) {
    if (!(v >= 0)) fail(`pbft.general.timeout.${k.toLowerCase()} must not be negative, got ${v} ms`)
  }
  const t = { ...c.timeouts }
  if (t.batch >= t.request) {
    t.request = 3 * t.batch / 2
    log.warn(`Configured request timeout must be greater than batch timeout, setting to ${t.request} ms`)
  }
  if (t.nullRequest !== 0 && t.request >= t.nullRequest) {
    t.nullRequest = 3 * t.request / 2
    log.warn(`Configured null request timeout must be greater than request timeout, setting to ${t.nullRequest} ms`)
  }
  return { ...c, timeouts: t }
}

/** The log size L. */
export function logSize (c: Pick<PbftConfig, 'K' | 'logMultiplier'>): number { return c.K * c.logMultiplier }
