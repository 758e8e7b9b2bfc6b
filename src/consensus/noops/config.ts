import { ConsensusConfigError, lookup, readDuration, readInt, type ConfigSource } from '../config-source.ts'

/** The environment prefix of consensus/noops/config.yaml. */
export const noopsEnvPrefix = 'CORE_NOOPS'

export interface NoopsConfig {
  /** block.size: transactions per block. */
  blockSize: number
  /** block.wait in ms; 0 (a Weft addition) cuts a block as soon as the queue is idle. */
  blockWaitMs: number
  /**
   * Transactions that may wait for a block; one more from another validator is refused. A
   * client's transaction is taken only while fewer than block.size wait (else it waits for room):
   * more would only queue up latency, as Fabric's blocking channel keeps it short.
   */
  queueLimit: number
  /** How long a client's transaction waits for room in a full queue before it is refused. */
  admissionWaitMs: number
}

/** Fabric 0.6.1's noops config.yaml: 500 transactions or 1 s. */
export const defaultNoopsConfig: NoopsConfig = Object.freeze({ blockSize: 500, blockWaitMs: 1000, queueLimit: 5000, admissionWaitMs: 30_000 })

/**
 * Reads `block.size` and `block.wait` as Fabric does: `CORE_NOOPS_BLOCK_SIZE` / `CORE_NOOPS_BLOCK_WAIT`
 * over the file's values over the defaults; a wait without a unit is in seconds.
 */
export function loadNoopsConfig (source: ConfigSource = {}): NoopsConfig {
  const sizeRaw = lookup(source, noopsEnvPrefix, 'block.size')
  const waitRaw = lookup(source, noopsEnvPrefix, 'block.wait')
  const blockSize = sizeRaw === undefined ? defaultNoopsConfig.blockSize : readInt(sizeRaw)
  const blockWaitMs = waitRaw === undefined ? defaultNoopsConfig.blockWaitMs : readDuration(waitRaw, 's')
  if (blockSize < 1) throw new ConsensusConfigError(`${sizeRaw!.from}: block size must be > 0, got ${blockSize}`)
  if (blockWaitMs < 0) throw new ConsensusConfigError(`${waitRaw!.from}: block wait must not be negative`)
  return { ...defaultNoopsConfig, blockSize, blockWaitMs, queueLimit: Math.max(defaultNoopsConfig.queueLimit, 10 * blockSize) }
}
