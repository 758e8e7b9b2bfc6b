import type { CoreEvent } from './events.ts'
import type { InnerStack } from './inner-stack.ts'
import { batchDigest, type Commit, type PrePrepare, type Prepare, type RequestBatch } from './messages.ts'
import type { ReplicaState } from './state.ts'
import type { Steps } from './steps.ts'

/** Normal-case operation: request batches, pre-prepare, prepare, commit, in-order execution. */
export class Ordering {
  constructor (
    private readonly s: ReplicaState,
    private readonly stack: Pick<InnerStack, 'execute' | 'getState'>,
    private readonly steps: Pick<Steps, 'post' | 'innerBroadcast' | 'checkpoint' | 'sendViewChange' | 'holdForView' | 'observe' | 'relayNewView'>
  ) {}

  recvRequestBatch (batch: RequestBatch): void {
    const s = this.s
    const digest = batchDigest(batch)
    s.log.debug(`received request batch ${digest}`)
    s.storeOutstandingReqBatch(digest, batch)
    if (s.activeView) s.timers.softStartTimer(s.requestTimeout, `new request batch ${digest}`)
    if (s.primary(s.view) === s.id && s.activeView) {
      s.timers.stopNullRequestTimer()
      this.sendPrePrepare(batch, digest)
    }
  }

  /** The primary assigns the next sequence number; an undefined batch with digest '' is a null request. */
  private sendPrePrepare (batch: RequestBatch | undefined, digest: string): void {
    const s = this.s
    const n = s.seqNo + 1
    if (digest !== '') {
      for (const cert of s.certStore.values()) {
        const p = cert.prePrepare
        if (p !== undefined && p.view === s.view && p.seqNo !== n && p.digest === digest) {
          s.log.info(`other pre-prepare found with same digest but different seqNo: ${p.seqNo} instead of ${n}`)
          return
        }
      }
    }
    // Past h + L/2 the primary waits for a stable checkpoint, so the backups' windows keep up.
    if (!s.inWV(s.view, n) || n > s.h + Math.floor(s.L / 2)) {
      s.log.warn(`is primary, not sending pre-prepare for batch ${digest} - out of sequence numbers`)
      return
    }
    if (n > s.viewChangeSeqNo) {
      s.log.info(`is primary about to switch to next primary, not sending pre-prepare with seqNo=${n}`)
      return
    }
    s.log.debug(`is primary, broadcasting pre-prepare for view=${s.view}/seqNo=${n} and digest ${digest}`)
    s.assignSeqNo(n)
    const pp: PrePrepare = { view: s.view, seqNo: n, digest, batch, replicaId: s.id }
    s.recordPrePrepare(pp)
    s.persistQSet()
    this.steps.innerBroadcast({ type: 'prePrepare', msg: pp })
    this.maybeSendCommit(digest, s.view, n)
  }

  /** The primary re-proposes request batches it knows of that have no certificate yet. */
  resubmitRequestBatches (): void {
    const s = this.s
    if (s.primary(s.view) !== s.id) return
    const digests = new Set<string>()
    for (const cert of s.certStore.values()) digests.add(cert.digest)
    const again = [...s.outstandingReqBatches].filter(([d]) => !digests.has(d))
    for (const [d, batch] of again) {
      s.log.debug(`has detected request batch ${d} must be resubmitted`)
      this.recvRequestBatch(batch)
    }
  }

  recvPrePrepare (pp: PrePrepare): CoreEvent | undefined {
    const s = this.s
    s.log.debug(`received pre-prepare from replica ${pp.replicaId} for view=${pp.view}/seqNo=${pp.seqNo}`)
    if (this.steps.holdForView(pp, 'prePrepare') || this.steps.observe(pp, 'prePrepare')) return
    if (!s.activeView) {
      s.log.debug('ignoring pre-prepare as we are in a view change')
      return
    }
    if (pp.view < s.view) this.steps.relayNewView(pp.replicaId, false)
    if (s.primary(s.view) !== pp.replicaId) {
      s.log.warn(`received pre-prepare from other than primary: got ${pp.replicaId}, should be ${s.primary(s.view)}`)
      return
    }
    if (this.outsideWindow('pre-prepare', pp)) return
    if (pp.seqNo > s.viewChangeSeqNo) {
      s.log.info(`received pre-prepare for ${pp.seqNo}, which should be from the next primary`)
      return this.steps.sendViewChange()
    }
    const cert = s.getCert(pp.view, pp.seqNo)
    if (cert.prePrepare !== undefined && cert.digest !== pp.digest) {
      s.log.warn(`pre-prepare found for same view/seqNo but different digest: received ${pp.digest}, stored ${cert.digest}`)
      return this.steps.sendViewChange()
    }
    if (pp.digest !== '' && !s.reqBatchStore.has(pp.digest)) {
      const digest = pp.batch === undefined ? undefined : batchDigest(pp.batch)
      if (digest !== pp.digest) {
        s.log.warn(`pre-prepare and request digest do not match: request ${digest ?? '(no batch)'}, digest ${pp.digest}`)
        return
      }
      s.storeOutstandingReqBatch(digest, pp.batch!)
    }
    s.recordPrePrepare(pp)
    s.timers.softStartTimer(s.requestTimeout, `new pre-prepare for request batch ${pp.digest}`)
    s.timers.stopNullRequestTimer()

    if (s.primary(s.view) !== s.id && s.prePrepared(pp.digest, pp.view, pp.seqNo) && !cert.sentPrepare) {
      s.log.debug(`is backup, broadcasting prepare for view=${pp.view}/seqNo=${pp.seqNo}`)
      const prep: Prepare = { view: pp.view, seqNo: pp.seqNo, digest: pp.digest, replicaId: s.id }
      s.markPrepareSent(pp.view, pp.seqNo)
      s.persistQSet()
      this.steps.innerBroadcast({ type: 'prepare', msg: prep })
      return this.recvPrepare(prep)
    }
  }

  recvPrepare (prep: Prepare): CoreEvent | undefined {
    const s = this.s
    if (this.arrived(prep, 'prepare')) return
    if (s.primary(prep.view) === prep.replicaId) {
      s.log.warn(`received prepare from primary ${prep.replicaId}, ignoring`)
      return
    }
    if (this.outsideWindow('prepare', prep)) return
    if (s.recordPrepare(prep) === undefined) {
      s.log.warn(`ignoring duplicate prepare from ${prep.replicaId}`)
      return
    }
    s.persistPSet()
    return this.maybeSendCommit(prep.digest, prep.view, prep.seqNo)
  }

  private maybeSendCommit (digest: string, v: number, n: number): CoreEvent | undefined {
    const s = this.s
    const cert = s.getCert(v, n)
    if (!s.prepared(digest, v, n) || cert.sentCommit) return
    s.log.debug(`broadcasting commit for view=${v}/seqNo=${n}`)
    const commit: Commit = { view: v, seqNo: n, digest, replicaId: s.id }
    s.markCommitSent(v, n)
    this.steps.innerBroadcast({ type: 'commit', msg: commit })
    return this.recvCommit(commit)
  }

  recvCommit (commit: Commit): CoreEvent | undefined {
    const s = this.s
    if (this.arrived(commit, 'commit')) return
    if (this.outsideWindow('commit', commit)) return
    const cert = s.recordCommit(commit)
    if (cert === undefined) {
      s.log.warn(`ignoring duplicate commit from ${commit.replicaId}`)
      return
    }
    // Judged by the certificate's digest, so a commit with a wrong digest can never stall the quorum.
    if (cert.prePrepare === undefined || !s.committed(cert.digest, commit.view, commit.seqNo)) return
    s.timers.stopTimer()
    s.timers.resetNewViewTimeout()
    s.forgetOutstandingReqBatch(cert.digest)
    this.executeOutstanding()
    if (commit.seqNo === s.viewChangeSeqNo) {
      s.log.info(`cycling view for seqNo=${commit.seqNo}`)
      return this.steps.sendViewChange()
    }
  }

  /**
   * A prepare or commit arrived (ours too): true when it is another's for a view we are about to
   * enter, held until then, or for the view we left alone, followed (viewsync.ts). A sender still
   * in an older view gets our new-view.
   */
  private arrived (m: Prepare | Commit, kind: 'prepare' | 'commit'): boolean {
    this.s.log.debug(`received ${kind} from replica ${m.replicaId} for view=${m.view}/seqNo=${m.seqNo}`)
    if (m.replicaId !== this.s.id && (this.steps.holdForView(m, kind) || this.steps.observe(m, kind))) return true
    if (m.view < this.s.view) this.steps.relayNewView(m.replicaId, false)
    return false
  }

  /** Not for our view or outside our window: expected (said quietly) for the watermark just passed or while catching up. */
  private outsideWindow (what: string, m: PrePrepare | Prepare | Commit): boolean {
    const s = this.s
    if (s.inWV(m.view, m.seqNo)) return false
    const normal = m.seqNo === s.h || s.skipInProgress
    ;(normal ? s.log.debug : s.log.warn)(`ignoring ${what} for view=${m.view}/seqNo=${m.seqNo}: not in view ${s.view} or outside watermarks (h=${s.h})`)
    return true
  }

  /** Executes the next sequence number if it is committed here; one execution at a time. */
  executeOutstanding (): void {
    const s = this.s
    if (s.currentExec !== undefined) {
      s.log.debug(`not attempting to executeOutstanding because it is currently executing ${s.currentExec}`)
      return
    }
    for (const cert of s.certStore.values()) {
      if (cert.seqNo !== s.lastExec + 1 || cert.prePrepare === undefined || s.skipInProgress) continue
      if (!s.committed(cert.digest, cert.view, cert.seqNo)) continue
      s.startExecution(cert.seqNo)
      if (cert.digest === '') {
        s.log.info(`executing/committing null request for view=${cert.view}/seqNo=${cert.seqNo}`)
        this.execDoneSync()
      } else {
        s.log.info(`executing/committing request batch for view=${cert.view}/seqNo=${cert.seqNo} and digest ${cert.digest}`)
        this.stack.execute(cert.seqNo, s.reqBatchStore.get(cert.digest)!)
      }
      break
    }
    s.startTimerIfOutstandingRequests()
  }

  /** An execution finished: checkpoint every K, then go on with the next. */
  execDoneSync (): void {
    const s = this.s
    if (s.currentExec !== undefined) {
      s.log.info(`finished execution ${s.currentExec}, trying next`)
      s.markExecuted()
      if (s.lastExec % s.K === 0) {
        const next = this.steps.checkpoint(s.lastExec, this.stack.getState())
        if (next !== undefined) this.steps.post(next)
      }
    } else {
      s.log.warn('had execDoneSync called with nothing executing, flagging ourselves as out of date')
      s.markOutOfDate()
    }
    this.executeOutstanding()
  }

  nullRequestHandler (): CoreEvent | undefined {
    const s = this.s
    if (!s.activeView) return
    if (s.primary(s.view) !== s.id) {
      s.log.info('null request timer expired, sending view change')
      return this.steps.sendViewChange()
    }
    s.log.info('is primary, null request timer expired, sending null request')
    this.sendPrePrepare(undefined, '')
  }
}
