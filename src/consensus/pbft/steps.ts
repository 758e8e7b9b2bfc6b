import type { CoreEvent, StateTarget } from './events.ts'
import type { Commit, NewView, PbftMessage, PrePrepare, Prepare } from './messages.ts'

/**
 * What the protocol steps (ordering.ts, checkpoint.ts, viewchange.ts, viewsync.ts) ask of each
 * other and of the core that wires them (core.ts). Each step is given only the part it calls,
 * so no step imports another: PBFT's rules call each other in circles, its files do not.
 */
export interface Steps {
  /** Queues an event behind the one being handled (for events arising deep inside a handler). */
  post (e: CoreEvent): void
  /** The replica found the network (or itself) beyond what PBFT tolerates; Fabric panics here. */
  fatal (err: Error): void
  /** Broadcasts to the other replicas (a byzantine replica leaves one out now and then). */
  innerBroadcast (msg: PbftMessage): void

  // ordering.ts
  recvPrepare (prep: Prepare): CoreEvent | undefined
  executeOutstanding (): void
  resubmitRequestBatches (): void

  // checkpoint.ts
  checkpoint (seqNo: number, id: Uint8Array): CoreEvent | undefined
  moveWatermarks (n: number): void
  stateTransfer (target?: StateTarget): void

  // viewchange.ts
  /** Leaves the current view for `view` (the next one unless said). */
  sendViewChange (view?: number): CoreEvent | undefined
  processNewView (): CoreEvent | undefined
  validNewView (nv: NewView): boolean

  // viewsync.ts
  relayNewView (to: number, always: boolean): void
  holdForView (msg: PrePrepare | Prepare | Commit, kind: 'prePrepare' | 'prepare' | 'commit'): boolean
  observe (msg: PrePrepare | Prepare | Commit, kind: 'prePrepare' | 'prepare' | 'commit'): boolean
  releaseHeld (): void
}
