import { checkpoint } from './checkpoint.ts'
import type { PbftCore } from './core.ts'
import type { CoreEvent } from './events.ts'
import { batchDigest, type Commit, type FetchRequestBatch, type PrePrepare, type Prepare, type RequestBatch } from './messages.ts'
import { persistQSet, persistPSet } from './pqsets.ts'
import { processNewView, sendViewChange } from './viewchange.ts'
import { holdForView, relayNewView } from './viewsync.ts'

/** Normal-case operation: request batches, pre-prepare, prepare, commit, in-order execution. */

export function recvRequestBatch (c: PbftCore, batch: RequestBatch): void {
  const digest = batchDigest(batch)
  c.debug(`received request batch ${digest}`)
  c.reqBatchStore.set(digest, batch)
  c.outstandingReqBatches.set(digest, batch)
  c.store.storeRequestBatch(digest, batch)
  if (c.activeView) c.softStartTimer(c.requestTimeout, `new request batch ${digest}`)
  if (c.primary(c.view) === c.id && c.activeView) {
    c.nullRequestTimer.stop()
    sendPrePrepare(c, batch, digest)
  }
}

/** The primary assigns the next sequence number; an undefined batch with digest '' is a null request. */
export function sendPrePrepare (c: PbftCore, batch: RequestBatch | undefined, digest: string): void {
  const n = c.seqNo + 1
  if (digest !== '') {
    for (const cert of c.certStore.values()) {
      const p = cert.prePrepare
      if (p !== undefined && p.view === c.view && p.seqNo !== n && p.digest === digest) {
        c.info(`other pre-prepare found with same digest but different seqNo: ${p.seqNo} instead of ${n}`)
        return
      }
    }
  }
  // Past h + L/2 the primary waits for a stable checkpoint, so the backups' windows keep up.
  if (!c.inWV(c.view, n) || n > c.h + Math.floor(c.L / 2)) {
    c.warn(`is primary, not sending pre-prepare for batch ${digest} - out of sequence numbers`)
    return
  }
  if (n > c.viewChangeSeqNo) {
    c.info(`is primary about to switch to next primary, not sending pre-prepare with seqNo=${n}`)
    return
  }
  c.debug(`is primary, broadcasting pre-prepare for view=${c.view}/seqNo=${n} and digest ${digest}`)
  c.seqNo = n
  const pp: PrePrepare = { view: c.view, seqNo: n, digest, batch, replicaId: c.id }
  const cert = c.getCert(c.view, n)
  cert.prePrepare = pp
  cert.digest = digest
  persistQSet(c)
  c.innerBroadcast({ type: 'prePrepare', msg: pp })
  maybeSendCommit(c, digest, c.view, n)
}

/** The primary re-proposes request batches it knows of that have no certificate yet. */
export function resubmitRequestBatches (c: PbftCore): void {
  if (c.primary(c.view) !== c.id) return
  const digests = new Set<string>()
  for (const cert of c.certStore.values()) digests.add(cert.digest)
  const again = [...c.outstandingReqBatches].filter(([d]) => !digests.has(d))
  for (const [d, batch] of again) {
    c.debug(`has detected request batch ${d} must be resubmitted`)
    recvRequestBatch(c, batch)
  }
}

export function recvPrePrepare (c: PbftCore, pp: PrePrepare): CoreEvent | undefined {
  c.debug(`received pre-prepare from replica ${pp.replicaId} for view=${pp.view}/seqNo=${pp.seqNo}`)
  if (holdForView(c, pp, 'prePrepare')) return
  if (!c.activeView) {
    c.debug('ignoring pre-prepare as we are in a view change')
    return
  }
  if (pp.view < c.view) relayNewView(c, pp.replicaId, false)
  if (c.primary(c.view) !== pp.replicaId) {
    c.warn(`received pre-prepare from other than primary: got ${pp.replicaId}, should be ${c.primary(c.view)}`)
    return
  }
  if (!c.inWV(pp.view, pp.seqNo)) {
    const normal = pp.seqNo === c.h || c.skipInProgress
    ;(normal ? c.debug : c.warn).call(c, `ignoring pre-prepare for view=${pp.view}/seqNo=${pp.seqNo}: not in view ${c.view} or outside watermarks (h=${c.h})`)
    return
  }
  if (pp.seqNo > c.viewChangeSeqNo) {
    c.info(`received pre-prepare for ${pp.seqNo}, which should be from the next primary`)
    return sendViewChange(c)
  }
  const cert = c.getCert(pp.view, pp.seqNo)
  if (cert.prePrepare !== undefined && cert.digest !== pp.digest) {
    c.warn(`pre-prepare found for same view/seqNo but different digest: received ${pp.digest}, stored ${cert.digest}`)
    return sendViewChange(c)
  }
  if (pp.digest !== '' && !c.reqBatchStore.has(pp.digest)) {
    const digest = pp.batch === undefined ? undefined : batchDigest(pp.batch)
    if (digest !== pp.digest) {
      c.warn(`pre-prepare and request digest do not match: request ${digest ?? '(no batch)'}, digest ${pp.digest}`)
      return
    }
    c.reqBatchStore.set(digest, pp.batch!)
    c.outstandingReqBatches.set(digest, pp.batch!)
    c.store.storeRequestBatch(digest, pp.batch!)
  }
  cert.prePrepare = pp
  cert.digest = pp.digest
  c.softStartTimer(c.requestTimeout, `new pre-prepare for request batch ${pp.digest}`)
  c.nullRequestTimer.stop()

  if (c.primary(c.view) !== c.id && c.prePrepared(pp.digest, pp.view, pp.seqNo) && !cert.sentPrepare) {
    c.debug(`is backup, broadcasting prepare for view=${pp.view}/seqNo=${pp.seqNo}`)
    const prep: Prepare = { view: pp.view, seqNo: pp.seqNo, digest: pp.digest, replicaId: c.id }
    cert.sentPrepare = true
    persistQSet(c)
    c.innerBroadcast({ type: 'prepare', msg: prep })
    return recvPrepare(c, prep)
  }
}

export function recvPrepare (c: PbftCore, prep: Prepare): CoreEvent | undefined {
  c.debug(`received prepare from replica ${prep.replicaId} for view=${prep.view}/seqNo=${prep.seqNo}`)
  if (prep.replicaId !== c.id && holdForView(c, prep, 'prepare')) return
  if (prep.view < c.view) relayNewView(c, prep.replicaId, false)
  if (c.primary(prep.view) === prep.replicaId) {
    c.warn(`received prepare from primary ${prep.replicaId}, ignoring`)
    return
  }
  if (!c.inWV(prep.view, prep.seqNo)) {
    const normal = prep.seqNo === c.h || c.skipInProgress
    ;(normal ? c.debug : c.warn).call(c, `ignoring prepare for view=${prep.view}/seqNo=${prep.seqNo}: not in view ${c.view} or outside watermarks (h=${c.h})`)
    return
  }
  const cert = c.getCert(prep.view, prep.seqNo)
  if (cert.prepares.some(p => p.replicaId === prep.replicaId)) {
    c.warn(`ignoring duplicate prepare from ${prep.replicaId}`)
    return
  }
  cert.prepares.push(prep)
  persistPSet(c)
  return maybeSendCommit(c, prep.digest, prep.view, prep.seqNo)
}

function maybeSendCommit (c: PbftCore, digest: string, v: number, n: number): CoreEvent | undefined {
  const cert = c.getCert(v, n)
  if (!c.prepared(digest, v, n) || cert.sentCommit) return
  c.debug(`broadcasting commit for view=${v}/seqNo=${n}`)
  const commit: Commit = { view: v, seqNo: n, digest, replicaId: c.id }
  cert.sentCommit = true
  c.innerBroadcast({ type: 'commit', msg: commit })
  return recvCommit(c, commit)
}

export function recvCommit (c: PbftCore, commit: Commit): CoreEvent | undefined {
  c.debug(`received commit from replica ${commit.replicaId} for view=${commit.view}/seqNo=${commit.seqNo}`)
  if (commit.replicaId !== c.id && holdForView(c, commit, 'commit')) return
  if (commit.view < c.view) relayNewView(c, commit.replicaId, false)
  if (!c.inWV(commit.view, commit.seqNo)) {
    const normal = commit.seqNo === c.h || c.skipInProgress
    ;(normal ? c.debug : c.warn).call(c, `ignoring commit for view=${commit.view}/seqNo=${commit.seqNo}: not in view ${c.view} or outside watermarks (h=${c.h})`)
    return
  }
  const cert = c.getCert(commit.view, commit.seqNo)
  if (cert.commits.some(p => p.replicaId === commit.replicaId)) {
    c.warn(`ignoring duplicate commit from ${commit.replicaId}`)
    return
  }
  cert.commits.push(commit)
  // Judged by the certificate's digest, so a commit with a wrong digest can never stall the quorum.
  if (cert.prePrepare === undefined || !c.committed(cert.digest, commit.view, commit.seqNo)) return
  c.stopTimer()
  c.lastNewViewTimeout = c.newViewTimeout
  c.outstandingReqBatches.delete(cert.digest)
  executeOutstanding(c)
  if (commit.seqNo === c.viewChangeSeqNo) {
    c.info(`cycling view for seqNo=${commit.seqNo}`)
    return sendViewChange(c)
  }
}

/** Executes the next sequence number if it is committed here; one execution at a time. */
export function executeOutstanding (c: PbftCore): void {
  if (c.currentExec !== undefined) {
    c.debug(`not attempting to executeOutstanding because it is currently executing ${c.currentExec}`)
    return
  }
  for (const cert of c.certStore.values()) {
    if (cert.seqNo !== c.lastExec + 1 || cert.prePrepare === undefined || c.skipInProgress) continue
    if (!c.committed(cert.digest, cert.view, cert.seqNo)) continue
    c.currentExec = cert.seqNo
    if (cert.digest === '') {
      c.info(`executing/committing null request for view=${cert.view}/seqNo=${cert.seqNo}`)
      execDoneSync(c)
    } else {
      c.info(`executing/committing request batch for view=${cert.view}/seqNo=${cert.seqNo} and digest ${cert.digest}`)
      c.consumer.execute(cert.seqNo, c.reqBatchStore.get(cert.digest)!)
    }
    break
  }
  c.startTimerIfOutstandingRequests()
}

/** An execution finished: checkpoint every K, then go on with the next. */
export function execDoneSync (c: PbftCore): void {
  if (c.currentExec !== undefined) {
    c.info(`finished execution ${c.currentExec}, trying next`)
    c.lastExec = c.currentExec
    c.lateJoin = false
    c.currentExec = undefined
    if (c.lastExec % c.K === 0) {
      const next = checkpoint(c, c.lastExec, c.consumer.getState())
      if (next !== undefined) c.post(next)
    }
  } else {
    c.warn('had execDoneSync called with nothing executing, flagging ourselves as out of date')
    c.skipInProgress = true
  }
  executeOutstanding(c)
}

export function nullRequestHandler (c: PbftCore): CoreEvent | undefined {
  if (!c.activeView) return
  if (c.primary(c.view) !== c.id) {
    c.info('null request timer expired, sending view change')
    return sendViewChange(c)
  }
  c.info('is primary, null request timer expired, sending null request')
  sendPrePrepare(c, undefined, '')
}

export function recvFetchRequestBatch (c: PbftCore, fr: FetchRequestBatch): void {
  const batch = c.reqBatchStore.get(fr.digest)
  if (batch === undefined) return
  c.consumer.unicast({ type: 'returnRequestBatch', batch }, fr.replicaId)
}

export function recvReturnRequestBatch (c: PbftCore, batch: RequestBatch): CoreEvent | undefined {
  const digest = batchDigest(batch)
  // Unasked for, or already got from someone else.
  if (!c.missingReqBatches.has(digest)) return
  c.reqBatchStore.set(digest, batch)
  c.missingReqBatches.delete(digest)
  c.store.storeRequestBatch(digest, batch)
  return processNewView(c)
}

/** Asks everyone for batches a new view assigned that this replica does not have. */
export function fetchRequestBatches (c: PbftCore): void {
  for (const digest of c.missingReqBatches) {
    c.innerBroadcast({ type: 'fetchRequestBatch', msg: { digest, replicaId: c.id } })
  }
}
