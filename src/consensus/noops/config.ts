export interface NoopsConfig {
  /** block.size: transactions per block. */
  blockSize: number
  /** block.wait in ms; 0 (a Weft addition) cuts a block as soon as the queue is idle. */
  blockWaitMs: number
  /**
   * Transactions that may wait to be executed; one more from another validator is refused. A
   * client's transaction is taken only while fewer than block.size (and at most 32) wait, else
   * it waits for room: more would only queue up latency, as Fabric's blocking channel keeps it short.
   */
  queueLimit: number
  /** How long a client's transaction waits for room in a full queue before it is refused. */
  admissionWaitMs: number
}

/** Fabric 0.6.1's noops config.yaml: 500 transactions or 1 s. */
export const defaultNoopsConfig: NoopsConfig = Object.freeze({ blockSize: 500, blockWaitMs: 1000, queueLimit: 5000, admissionWaitMs: 30_000 })
