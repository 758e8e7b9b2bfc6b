import type { StateTarget } from './events.ts'
import type { PbftMessage, RequestBatch } from './messages.ts'

/** What the core asks of the layer around it (Fabric's innerStack). Every call is synchronous. */
export interface InnerStack {
  broadcast (msg: PbftMessage): void
  unicast (msg: PbftMessage, replica: number): void
  /** Starts executing a committed batch; completion comes back as an execDone event. */
  execute (seqNo: number, batch: RequestBatch): void
  /** The current checkpoint id: the marshaled BlockchainInfo. */
  getState (): Uint8Array
  /** Starts state transfer; completion comes back as a stateUpdated event. */
  skipTo (target: StateTarget): void
  sign (data: Uint8Array): Uint8Array
  /** Throws when the signature is not the replica's. */
  verify (replica: number, signature: Uint8Array, data: Uint8Array): void
  invalidateState (): void
  validateState (): void
}
