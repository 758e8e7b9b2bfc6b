import type { BlockchainInfo, Message, PeerID } from '../../protos/fabric_pb.ts'
import type { NewView, PbftMessage } from './messages.ts'

/** A checkpoint to bring the ledger to: sequence number, checkpoint id (marshaled BlockchainInfo), who attested it. */
export interface StateTarget {
  seqNo: number
  id: Uint8Array
  replicas: number[]
}

/** A decoded message as an event: its type becomes the kind (`{ kind: 'prepare', msg: Prepare }`). */
type AsEvent<M> = M extends { type: infer K } ? { kind: K } & Omit<M, 'type'> : never

/** Events of the PBFT core (Fabric's pbft-core event types plus the decoded messages). */
export type CoreEvent =
  | AsEvent<PbftMessage>
  | { kind: 'message', msg: PbftMessage, sender: number }
  | { kind: 'newViewRelay', msg: NewView, sender: number }
  /** `graced`: the request timer's second expiry, after its grace (timerGrace). */
  | { kind: 'viewChangeTimer', graced?: boolean }
  | { kind: 'viewChangeResendTimer' }
  | { kind: 'nullRequestTimer' }
  | { kind: 'execDone' }
  | { kind: 'executionFailed', error: Error }
  | { kind: 'stateUpdated', target: StateTarget, info: BlockchainInfo | undefined }
  | { kind: 'viewChangeQuorum' }
  | { kind: 'viewChanged' }
  | { kind: 'work', fn: () => void }

/** A message of the ordering protocol, which view sync holds until its view is entered. */
export type ViewMessage = Extract<CoreEvent, { kind: 'prePrepare' | 'prepare' | 'commit' }>

/** Events only the batch layer handles (Fabric's obcBatch events). */
export type BatchEvent =
  | CoreEvent
  | { kind: 'batchMessage', msg: Message, sender: PeerID }
  | { kind: 'batchTimer' }
  | { kind: 'retransmitTimer' }
  | { kind: 'executed', tag: unknown }
  | { kind: 'committed', tag: unknown, info: BlockchainInfo }
  | { kind: 'rolledBack' }

/** What the core needs of a timer (an EventTimer over the replica's event loop). */
export interface CoreTimer {
  softReset (delayMs: number, event: CoreEvent): void
  reset (delayMs: number, event: CoreEvent): void
  stop (): void
}
