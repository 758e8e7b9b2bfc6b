import type { ReplicaState } from './state.ts'

/** What a replica's PBFT state looks like from outside (a copy, for monitoring and tests). */
export interface PbftStatus {
  id: number
  view: number
  /** False while a view change is under way. */
  activeView: boolean
  /** The primary of `view`. */
  primary: number
  /** The last sequence number assigned (by this replica as primary, or by a new view). */
  seqNo: number
  lastExec: number
  /** The low watermark. */
  h: number
  /** Out of date: catching up by state transfer. */
  skipInProgress: boolean
  /** Sequence numbers of this replica's own checkpoints in its window, ascending. */
  checkpoints: number[]
  /** Since the replica started: view-change messages it sent (resends included) and new views it entered. */
  viewChangesSent: number
  newViewsInstalled: number
}

export function replicaStatus (state: ReplicaState): PbftStatus {
  return {
    id: state.id,
    view: state.view,
    activeView: state.activeView,
    primary: state.primary(state.view),
    seqNo: state.seqNo,
    lastExec: state.lastExec,
    h: state.h,
    skipInProgress: state.skipInProgress,
    checkpoints: [...state.chkpts.keys()].sort((a, b) => a - b),
    viewChangesSent: state.viewChangesSent,
    newViewsInstalled: state.newViewsInstalled
  }
}
