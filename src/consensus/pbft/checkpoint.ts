import type { BlockchainInfo } from '../../protos/fabric_pb.ts'
import { fromBase64, toBase64 } from '../../crypto/bytes.ts'
import type { PbftCore } from './core.ts'
import type { CoreEvent, StateTarget } from './events.ts'
import type { Checkpoint } from './messages.ts'
import { executeOutstanding, resubmitRequestBatches } from './ordering.ts'
import { processNewView } from './viewchange.ts'

/** Checkpoints every K, watermarks, and falling behind: when and where to transfer state. */

const chkptKey = (n: number, replica: number): string => `${n}:${replica}`

/** Records and announces this replica's checkpoint for `seqNo` (a multiple of K). */
export function checkpoint (c: PbftCore, seqNo: number, id: Uint8Array): CoreEvent | undefined {
  if (seqNo % c.K !== 0) {
    c.error(`attempted to checkpoint a sequence number (${seqNo}) which is not a multiple of the checkpoint interval (${c.K})`)
    return
  }
  const chk: Checkpoint = { seqNo, replicaId: c.id, id: toBase64(id) }
  c.debug(`preparing checkpoint for view=${c.view}/seqNo=${seqNo} and b64 id of ${chk.id}`)
  c.chkpts.set(seqNo, chk.id)
  c.store.storeCheckpoint(seqNo, id)
  c.innerBroadcast({ type: 'checkpoint', msg: chk })
  return recvCheckpoint(c, chk)
}

/** Moves the low watermark to `n` rounded down to a checkpoint, forgetting everything at or below it. */
export function moveWatermarks (c: PbftCore, n: number): void {
  const h = Math.floor(n / c.K) * c.K
  const dropped = new Set<string>()
  for (const [key, cert] of c.certStore) {
    if (cert.seqNo > h) continue
    dropped.add(cert.digest)
    c.certStore.delete(key)
  }
  forgetBatches(c, dropped)
  for (const [key, chk] of c.checkpointStore) if (chk.seqNo <= h) c.checkpointStore.delete(key)
  for (const n of c.pset.keys()) if (n <= h) c.pset.delete(n)
  for (const [key, q] of c.qset) if (q.seqNo <= h) c.qset.delete(key)
  for (const n of c.chkpts.keys()) {
    if (n < h) {
      c.chkpts.delete(n)
      c.store.delCheckpoint(n)
    }
  }
  c.h = h
  c.debug(`updated low watermark to ${h}`)
  resubmitRequestBatches(c)
}

/**
 * Drops request batches, keeping any that a remaining certificate still uses: the same batch can
 * sit at two sequence numbers (re-proposed after a view change or a state transfer), and a
 * certificate whose batch is gone no longer counts as pre-prepared or prepared, so it would drop
 * out of our P and Q sets and a view change could lose a committed request. (Fabric deletes by
 * digest regardless.)
 */
function forgetBatches (c: PbftCore, digests: Iterable<string>): void {
  const inUse = new Set<string>()
  for (const cert of c.certStore.values()) inUse.add(cert.digest)
  for (const d of digests) {
    if (inUse.has(d)) continue
    c.reqBatchStore.delete(d)
    c.store.delRequestBatch(d)
  }
}

/**
 * f+1 replicas reporting checkpoints above our high watermark means a stable checkpoint there
 * exists that we can never help form: we are out of date. Jumps the watermarks and returns true.
 */
function weakCheckpointSetOutOfRange (c: PbftCore, chk: Checkpoint): boolean {
  const H = c.h + c.L
  if (chk.seqNo < H) {
    // An honest replica's checkpoints only go up.
    c.hChkpts.delete(chk.replicaId)
    return false
  }
  // The latest per replica, not the highest: a byzantine replica could claim anything.
  c.hChkpts.set(chk.replicaId, chk)
  if (c.hChkpts.size < c.f + 1) return false
  const seqNos: number[] = []
  for (const [replica, high] of c.hChkpts) {
    seqNos.push(high.seqNo)
    if (high.seqNo < H) c.hChkpts.delete(replica)
  }
  seqNos.sort((a, b) => a - b)
  const m = seqNos[seqNos.length - (c.f + 1)]
  if (m <= H) return false
  c.warn(`is out of date, f+1 nodes agree checkpoint with seqNo ${m} exists but our high water mark is ${H}`)
  moveWatermarks(c, m)
  // We cannot tell which of our batches were executed: drop all but those our certificates need.
  forgetBatches(c, [...c.reqBatchStore.keys()])
  c.outstandingReqBatches.clear()
  c.skipInProgress = true
  c.consumer.invalidateState()
  c.stopTimer()
  // The reports that pushed us may already form a weak certificate at the new low watermark
  // (Fabric waits for the next checkpoint messages).
  if (!c.ext.earlyStateTransfer) return true
  const atM = [...c.hChkpts.values()].filter(x => x.seqNo === m)
  for (const candidate of atM) {
    const members = atM.filter(x => x.id === candidate.id).map(x => x.replicaId)
    if (members.length >= c.f + 1) {
      witnessWeakCert(c, candidate, members)
      break
    }
  }
  return true
}

function targetOf (c: PbftCore, chk: Checkpoint, members: number[]): StateTarget | undefined {
  try {
    return { seqNo: chk.seqNo, id: fromBase64(chk.id), replicas: members }
  } catch {
    c.error(`received a checkpoint certificate whose id could not be decoded (${chk.id})`)
    return undefined
  }
}

function witnessWeakCert (c: PbftCore, chk: Checkpoint, members: number[]): void {
  const target = targetOf(c, chk, members)
  if (target === undefined) return
  updateHighStateTarget(c, target)
  if (c.skipInProgress) {
    c.debug(`is catching up and witnessed a weak certificate for checkpoint ${chk.seqNo}, attested by ${members.join(',')}`)
    retryStateTransfer(c, target)
  } else if (c.ext.earlyStateTransfer && chk.seqNo > (c.currentExec ?? c.lastExec) && !c.canExecuteTo(c.currentExec ?? c.lastExec, chk.seqNo)) {
    // Weft: f+1 replicas (one correct) are past a sequence number whose messages we lack;
    // executions cannot get us there, state transfer can. (Fabric waits until we fall out of
    // the window, and after a restart or a late new-view we may be needed for the very
    // checkpoint quorum that would move it.)
    c.info(`cannot execute up to checkpoint ${chk.seqNo} that f+1 replicas reached, transferring state`)
    stateTransfer(c, target)
  }
}

export function recvCheckpoint (c: PbftCore, chk: Checkpoint): CoreEvent | undefined {
  c.debug(`received checkpoint from replica ${chk.replicaId}, seqNo ${chk.seqNo}, digest ${chk.id}`)
  if (weakCheckpointSetOutOfRange(c, chk)) return
  if (!c.inW(chk.seqNo)) {
    // Checkpoints for the watermark just raised keep arriving from the slower replicas.
    const normal = chk.seqNo === c.h || c.skipInProgress
    ;(normal ? c.debug : c.warn).call(c, `checkpoint sequence number outside watermarks: seqNo ${chk.seqNo}, low-mark ${c.h}`)
    return
  }
  const key = chkptKey(chk.seqNo, chk.replicaId)
  const earlier = c.checkpointStore.get(key)
  if (earlier !== undefined) {
    if (earlier.id !== chk.id) c.warn(`replica ${chk.replicaId} sent two different checkpoints for seqNo ${chk.seqNo}, keeping the first`)
    return
  }
  c.checkpointStore.set(key, chk)

  const values = new Set<string>()
  const members: number[] = []
  for (const x of c.checkpointStore.values()) {
    if (x.seqNo !== chk.seqNo) continue
    values.add(x.id)
    if (x.id === chk.id) members.push(x.replicaId)
  }
  if (values.size > c.f + 1) {
    c.onFatal(new Error(`Network unable to find stable certificate for seqNo ${chk.seqNo} (${values.size} different values observed already)`))
    return
  }
  if (members.length === c.f + 1) {
    const own = c.chkpts.get(chk.seqNo)
    if (own !== undefined && own !== chk.id) {
      c.onFatal(new Error(`Own checkpoint for seqNo ${chk.seqNo} (${own}) different from weak checkpoint certificate (${chk.id})`))
      return
    }
    witnessWeakCert(c, chk, members)
  }
  if (members.length < c.intersectionQuorum()) return

  if (!c.chkpts.has(chk.seqNo)) {
    // A stable checkpoint we have not reached: fine while we can still execute up to it.
    c.debug(`found checkpoint quorum for seqNo ${chk.seqNo}, digest ${chk.id}, but it has not reached this checkpoint itself yet`)
    // Keep up with a network that moves on during a slow state transfer.
    if (c.skipInProgress && chk.seqNo >= c.h + Math.floor(c.L / 2)) moveWatermarks(c, chk.seqNo)
    return
  }
  c.debug(`found checkpoint quorum for seqNo ${chk.seqNo}, digest ${chk.id}`)
  moveWatermarks(c, chk.seqNo)
  return processNewView(c)
}

export function updateHighStateTarget (c: PbftCore, target: StateTarget): void {
  if (c.highStateTarget !== undefined && c.highStateTarget.seqNo >= target.seqNo) {
    c.debug(`not updating state target to seqNo ${target.seqNo}, has target for seqNo ${c.highStateTarget.seqNo}`)
    return
  }
  c.highStateTarget = target
}

export function stateTransfer (c: PbftCore, target?: StateTarget): void {
  if (!c.skipInProgress) {
    c.debug('is out of sync, pending state transfer')
    c.skipInProgress = true
    c.consumer.invalidateState()
  }
  retryStateTransfer(c, target)
}

export function retryStateTransfer (c: PbftCore, optional?: StateTarget): void {
  if (c.currentExec !== undefined) {
    c.debug('is currently mid-execution, it must wait for the execution to complete before performing state transfer')
    return
  }
  if (c.stateTransferring) {
    c.debug('is currently mid state transfer, it must wait for this state transfer to complete before initiating a new one')
    return
  }
  // A target we already passed is no use (and would wind lastExec back).
  const high = c.highStateTarget !== undefined && c.highStateTarget.seqNo > c.lastExec ? c.highStateTarget : undefined
  const target = optional ?? high
  if (target === undefined) {
    c.debug('has no targets to attempt state transfer to, delaying')
    return
  }
  c.stateTransferring = true
  c.debug(`is initiating state transfer to seqNo ${target.seqNo}`)
  c.consumer.skipTo(target)
}

/** State transfer finished (`info` set) or gave up (`info` undefined). */
export function stateUpdated (c: PbftCore, target: StateTarget, info: BlockchainInfo | undefined): CoreEvent | undefined {
  c.stateTransferring = false
  if (info === undefined || target.seqNo < c.h) {
    if (info === undefined) c.warn(`attempted state transfer target was not reachable (seqNo ${target.seqNo})`)
    else c.warn(`recovered to seqNo ${target.seqNo} but our low watermark has moved to ${c.h}`)
    if (c.highStateTarget === undefined) c.debug('has no state targets, cannot resume state transfer yet')
    else if (target.seqNo < c.highStateTarget.seqNo) retryStateTransfer(c)
    else c.debug(`has no state target above ${target.seqNo}, highest is ${c.highStateTarget.seqNo}`)
    return
  }
  c.info(`application caught up via state transfer, lastExec now ${target.seqNo}`)
  // Batches we never saw commit may have executed in the blocks we received: as primary we must
  // not propose them again (their requests are still outstanding at their origin).
  c.outstandingReqBatches.clear()
  c.lastExec = target.seqNo
  c.lateJoin = false
  moveWatermarks(c, c.lastExec)
  c.skipInProgress = false
  c.consumer.validateState()
  const next = target.seqNo % c.K === 0 ? checkpoint(c, target.seqNo, target.id) : undefined
  executeOutstanding(c)
  return next
}

/** Weft: an execution failed outside consensus (storage, runtime); the ledger is no longer trustworthy, so state transfer it. */
export function executionFailed (c: PbftCore, err: Error): CoreEvent | undefined {
  c.error(`execution of seqNo ${c.currentExec ?? '?'} failed, will catch up by state transfer: ${err.message}`)
  c.currentExec = undefined
  stateTransfer(c)
  return undefined
}
