import { createLogger } from '../../util/logger.ts'
import { ConsensusConfigError, lookup, readBool, readDuration, readInt, readString, type ConfigSource, type RawValue } from '../config-source.ts'

const log = createLogger('consensus/pbft')

/** The environment prefix of consensus/pbft/config.yaml. */
export const pbftEnvPrefix = 'CORE_PBFT'

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
  executorQueueSize: 30
})

/**
 * Reads the PBFT config: `CORE_PBFT_*` environment variables over `source.values` (a parsed
 * config.yaml) over Fabric's defaults. Throws ConsensusConfigError naming the offending key.
 */
export function loadPbftConfig (source: ConfigSource = {}): PbftConfig {
  const get = <T>(key: string, read: (raw: RawValue) => T, fallback: T): T => {
    const raw = lookup(source, pbftEnvPrefix, key)
    return raw === undefined ? fallback : read(raw)
  }
  const d = defaultPbftConfig
  const mode = get('general.mode', readString, 'batch').toLowerCase()
  if (mode !== 'batch') throw new ConsensusConfigError(`Invalid PBFT mode: ${mode} (general.mode must be "batch")`)
  const nullRaw = lookup(source, pbftEnvPrefix, 'general.timeout.nullrequest')
  let nullRequest = 0
  if (nullRaw !== undefined) {
    // Fabric turns an unparsable null request timeout off rather than refusing to start.
    try { nullRequest = readDuration(nullRaw) } catch (err) { log.warn(`${(err as Error).message}; null requests disabled`) }
  }
  return validatePbftConfig({
    mode: 'batch',
    N: get('general.N', readInt, d.N),
    f: get('general.f', readInt, d.f),
    K: get('general.K', readInt, d.K),
    logMultiplier: get('general.logmultiplier', readInt, d.logMultiplier),
    batchSize: get('general.batchsize', readInt, d.batchSize),
    byzantine: get('general.byzantine', readBool, d.byzantine),
    viewChangePeriod: get('general.viewchangeperiod', readInt, d.viewChangePeriod),
    timeouts: {
      batch: get('general.timeout.batch', r => readDuration(r), d.timeouts.batch),
      request: get('general.timeout.request', r => readDuration(r), d.timeouts.request),
      viewChange: get('general.timeout.viewchange', r => readDuration(r), d.timeouts.viewChange),
      resendViewChange: get('general.timeout.resendviewchange', r => readDuration(r), d.timeouts.resendViewChange),
      nullRequest,
      broadcast: get('general.timeout.broadcast', r => readDuration(r), d.timeouts.broadcast)
    },
    executorQueueSize: get('executor.queuesize', readInt, d.executorQueueSize)
  })
}

/**
 * Checks a config and applies Fabric's adjustments: the request timeout must exceed the batch
 * timeout and the null request timeout the request timeout, else they are raised to 1.5×.
 */
export function validatePbftConfig (c: PbftConfig): PbftConfig {
  const fail = (msg: string): never => { throw new ConsensusConfigError(msg) }
  if (c.f < 0 || c.N < 1) fail(`general.N (${c.N}) must be at least 1 and general.f (${c.f}) at least 0`)
  if (c.f * 3 + 1 > c.N) fail(`need at least ${c.f * 3 + 1} replicas to tolerate ${c.f} byzantine faults, but only ${c.N} replicas configured (general.N)`)
  if (c.K < 1) fail(`general.K (checkpoint period) must be at least 1, got ${c.K}`)
  if (c.logMultiplier < 2) fail(`general.logmultiplier must be at least 2, got ${c.logMultiplier}`)
  if (c.batchSize < 1) fail(`general.batchsize must be at least 1, got ${c.batchSize}`)
  if (c.viewChangePeriod < 0) fail(`general.viewchangeperiod must not be negative, got ${c.viewChangePeriod}`)
  if (c.executorQueueSize < 1) fail(`executor.queuesize must be at least 1, got ${c.executorQueueSize}`)
  for (const [k, v] of Object.entries(c.timeouts)) {
    if (!(v >= 0)) fail(`general.timeout.${k.toLowerCase()} must not be negative, got ${v} ms`)
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
