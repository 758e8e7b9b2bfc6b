import type { BlockchainInfo } from '../../protos/fabric_pb.ts'
import { fromBase64, toBase64 } from '../../crypto/bytes.ts'
import type { CoreEvent, StateTarget } from './events.ts'
import type { InnerStack } from './inner-stack.ts'
import type { Checkpoint } from './messages.ts'
import type { ReplicaState } from './state.ts'
import type { Steps } from './steps.ts'
import { errorMessage } from '../../util/errors.ts'

/** Checkpoints every K, watermarks, and falling behind: when and where to transfer state. */
export class Checkpoints {
  constructor (
    private readonly s: ReplicaState,
    private readonly stack: Pick<InnerStack, 'skipTo' | 'invalidateState' | 'validateState'>,
    private readonly steps: Pick<Steps, 'fatal' | 'innerBroadcast' | 'executeOutstanding' | 'resubmitRequestBatches' | 'processNewView'>
  ) {}

  /** Records and announces this replica's checkpoint for `seqNo` (a multiple of K). */
  checkpoint (seqNo: number, id: Uint8Array): CoreEvent | undefined {
    const s = this.s
    if (seqNo % s.K !== 0) {
      s.log.error(`attempted to checkpoint a sequence number (${seqNo}) which is not a multiple of the checkpoint interval (${s.K})`)
      return
    }
    const chk: Checkpoint = { seqNo, replicaId: s.id, id: toBase64(id) }
    s.log.debug(`preparing checkpoint for view=${s.view}/seqNo=${seqNo} and b64 id of ${chk.id}`)
    s.storeOwnCheckpoint(chk, id)
    this.steps.innerBroadcast({ type: 'checkpoint', msg: chk })
    return this.recvCheckpoint(chk)
  }

  /** Moves the window up (state.ts); the primary then proposes what waited for room. */
  moveWatermarks (n: number): void {
    this.s.moveWatermarks(n)
    this.steps.resubmitRequestBatches()
  }

  /**
   * f+1 replicas reporting checkpoints above our high watermark means a stable checkpoint there
   * exists that we can never help form: we are out of date. Jumps the watermarks and returns true.
   */
  private weakCheckpointSetOutOfRange (chk: Checkpoint): boolean {
    const s = this.s
    const H = s.h + s.L
    if (chk.seqNo < H) {
      // An honest replica's checkpoints only go up.
      s.forgetHighCheckpoint(chk.replicaId)
      return false
    }
    // The latest per replica, not the highest: a byzantine replica could claim anything.
    s.recordHighCheckpoint(chk)
    if (s.hChkpts.size < s.f + 1) return false
    const seqNos = [...s.hChkpts.values()].map(high => high.seqNo)
    s.forgetHighCheckpointsBelow(H)
    seqNos.sort((a, b) => a - b)
    const m = seqNos[seqNos.length - (s.f + 1)]
    if (m <= H) return false
    s.log.warn(`is out of date, f+1 nodes agree checkpoint with seqNo ${m} exists but our high water mark is ${H}`)
    this.moveWatermarks(m)
    s.forgetReqBatches()
    s.markOutOfDate()
    this.stack.invalidateState()
    s.timers.stopTimer()
    // The reports that pushed us may already form a weak certificate at the new low watermark
    // (Fabric waits for the next checkpoint messages).
    if (!s.ext.earlyStateTransfer) return true
    const atM = [...s.hChkpts.values()].filter(x => x.seqNo === m)
    for (const candidate of atM) {
      const members = atM.filter(x => x.id === candidate.id).map(x => x.replicaId)
      if (members.length >= s.f + 1) {
        this.witnessWeakCert(candidate, members)
        break
      }
    }
    return true
  }

  private targetOf (chk: Checkpoint, members: number[]): StateTarget | undefined {
    try {
      return { seqNo: chk.seqNo, id: fromBase64(chk.id), replicas: members }
    } catch {
      this.s.log.error(`received a checkpoint certificate whose id could not be decoded (${chk.id})`)
      return undefined
    }
  }

  private witnessWeakCert (chk: Checkpoint, members: number[]): void {
    const s = this.s
    const target = this.targetOf(chk, members)
    if (target === undefined) return
    s.updateHighStateTarget(target)
    if (s.skipInProgress) {
      s.log.debug(`is catching up and witnessed a weak certificate for checkpoint ${chk.seqNo}, attested by ${members.join(',')}`)
      this.retryStateTransfer(target)
    } else if (s.ext.earlyStateTransfer && chk.seqNo > (s.currentExec ?? s.lastExec) && !s.canExecuteTo(s.currentExec ?? s.lastExec, chk.seqNo)) {
      // Weft: f+1 replicas (one correct) are past a sequence number whose messages we lack;
      // executions cannot get us there, state transfer can. (Fabric waits until we fall out of
      // the window, and after a restart or a late new-view we may be needed for the very
      // checkpoint quorum that would move it.)
      s.log.info(`cannot execute up to checkpoint ${chk.seqNo} that f+1 replicas reached, transferring state`)
      this.stateTransfer(target)
    }
  }

  recvCheckpoint (chk: Checkpoint): CoreEvent | undefined {
    const s = this.s
    s.log.debug(`received checkpoint from replica ${chk.replicaId}, seqNo ${chk.seqNo}, digest ${chk.id}`)
    if (this.weakCheckpointSetOutOfRange(chk)) return
    if (!s.inW(chk.seqNo)) {
      // Checkpoints for the watermark just raised keep arriving from the slower replicas.
      const normal = chk.seqNo === s.h || s.skipInProgress
      ;(normal ? s.log.debug : s.log.warn)(`checkpoint sequence number outside watermarks: seqNo ${chk.seqNo}, low-mark ${s.h}`)
      return
    }
    const earlier = s.recordCheckpoint(chk)
    if (earlier !== undefined) {
      if (earlier.id !== chk.id) s.log.warn(`replica ${chk.replicaId} sent two different checkpoints for seqNo ${chk.seqNo}, keeping the first`)
      return
    }

    const values = new Set<string>()
    const members: number[] = []
    for (const x of s.checkpointStore.values()) {
      if (x.seqNo !== chk.seqNo) continue
      values.add(x.id)
      if (x.id === chk.id) members.push(x.replicaId)
    }
    if (values.size > s.f + 1) {
      this.steps.fatal(new Error(`Network unable to find stable certificate for seqNo ${chk.seqNo} (${values.size} different values observed already)`))
      return
    }
    if (members.length === s.f + 1) {
      const own = s.chkpts.get(chk.seqNo)
      if (own !== undefined && own !== chk.id) {
        this.steps.fatal(new Error(`Own checkpoint for seqNo ${chk.seqNo} (${own}) different from weak checkpoint certificate (${chk.id})`))
        return
      }
      this.witnessWeakCert(chk, members)
    }
    if (members.length < s.intersectionQuorum()) return

    if (!s.chkpts.has(chk.seqNo)) {
      // A stable checkpoint we have not reached: fine while we can still execute up to it.
      s.log.debug(`found checkpoint quorum for seqNo ${chk.seqNo}, digest ${chk.id}, but it has not reached this checkpoint itself yet`)
      // Keep up with a network that moves on during a slow state transfer.
      if (s.skipInProgress && chk.seqNo >= s.h + Math.floor(s.L / 2)) this.moveWatermarks(chk.seqNo)
      return
    }
    s.log.debug(`found checkpoint quorum for seqNo ${chk.seqNo}, digest ${chk.id}`)
    this.moveWatermarks(chk.seqNo)
    return this.steps.processNewView()
  }

  stateTransfer (target?: StateTarget): void {
    const s = this.s
    if (!s.skipInProgress) {
      s.log.debug('is out of sync, pending state transfer')
      s.markOutOfDate()
      this.stack.invalidateState()
    }
    this.retryStateTransfer(target)
  }

  retryStateTransfer (optional?: StateTarget): void {
    const s = this.s
    if (s.currentExec !== undefined) {
      s.log.debug('is currently mid-execution, it must wait for the execution to complete before performing state transfer')
      return
    }
    if (s.stateTransferring) {
      s.log.debug('is currently mid state transfer, it must wait for this state transfer to complete before initiating a new one')
      return
    }
    // A target we already passed is no use (and would wind lastExec back).
    const high = s.highStateTarget !== undefined && s.highStateTarget.seqNo > s.lastExec ? s.highStateTarget : undefined
    const target = optional ?? high
    if (target === undefined) {
      s.log.debug('has no targets to attempt state transfer to, delaying')
      return
    }
    s.beginStateTransfer()
    s.log.debug(`is initiating state transfer to seqNo ${target.seqNo}`)
    this.stack.skipTo(target)
  }

  /** State transfer finished (`info` set) or gave up (`info` undefined). */
  stateUpdated (target: StateTarget, info: BlockchainInfo | undefined): CoreEvent | undefined {
    const s = this.s
    s.endStateTransfer()
    if (info === undefined || target.seqNo < s.h) {
      if (info === undefined) s.log.warn(`attempted state transfer target was not reachable (seqNo ${target.seqNo})`)
      else s.log.warn(`recovered to seqNo ${target.seqNo} but our low watermark has moved to ${s.h}`)
      if (s.highStateTarget === undefined) s.log.debug('has no state targets, cannot resume state transfer yet')
      else if (target.seqNo < s.highStateTarget.seqNo) this.retryStateTransfer()
      else s.log.debug(`has no state target above ${target.seqNo}, highest is ${s.highStateTarget.seqNo}`)
      return
    }
    s.log.info(`application caught up via state transfer, lastExec now ${target.seqNo}`)
    s.caughtUp(target.seqNo)
    this.stack.validateState()
    const next = target.seqNo % s.K === 0 ? this.checkpoint(target.seqNo, target.id) : undefined
    this.steps.executeOutstanding()
    return next
  }

  /** Weft: an execution failed outside consensus (storage, runtime); the ledger is no longer trustworthy, so state transfer it. */
  executionFailed (err: Error): void {
    this.s.log.error(`execution of seqNo ${this.s.currentExec ?? '?'} failed, will catch up by state transfer: ${errorMessage(err)}`)
    this.s.abortExecution()
    this.stateTransfer()
  }
}
