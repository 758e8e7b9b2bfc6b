import { toBase64 } from '../../crypto/bytes.ts'
import { computeCryptoHash } from '../../crypto/hash.ts'
import type { PbftCore } from './core.ts'
import type { CoreEvent } from './events.ts'
import { encodePbftMessage, type Commit, type NewView, type PrePrepare, type Prepare } from './messages.ts'
import { calcPSet, calcQSet } from './pqsets.ts'
import { processNewView, validNewView } from './viewchange.ts'

/**
 * Weft: bringing a replica that missed a view change into the current view. In Fabric a replica
 * that restarts (or missed the new-view message) stays in its old view until the network's next
 * view change, catching up only at checkpoints. Here a replica that hears from a replica still in
 * an older view sends it the new-view message it accepted; the lagging replica adopts a new view
 * once f+1 replicas relayed the very same message, so at least one correct replica accepted it.
 */

/** Sends our new-view to a replica that is still in an older view (once per view for ordinary messages). */
export function relayNewView (c: PbftCore, to: number, always: boolean): void {
  if (!c.ext.viewSync || !c.activeView || to === c.id) return
  const nv = c.newViewStore.get(c.view)
  if (nv === undefined) return
  const key = `${to}:${c.view}`
  if (!always && c.relayedTo.has(key)) return
  c.relayedTo.add(key)
  c.debug(`relaying new-view ${c.view} to replica ${to}, which is still in an older view`)
  c.consumer.unicast({ type: 'newView', msg: nv }, to)
}

export function recvNewViewRelay (c: PbftCore, nv: NewView, sender: number): CoreEvent | undefined {
  if (nv.view < c.view || (nv.view === c.view && c.activeView)) return
  if (!validNewView(c, nv)) return
  const key = `${nv.view}:${toBase64(computeCryptoHash(encodePbftMessage({ type: 'newView', msg: nv })))}`
  // One relay per sender, the latest: a replica cannot vote twice.
  c.nvRelays.set(sender, key)
  let votes = 0
  for (const k of c.nvRelays.values()) if (k === key) votes++
  if (votes < c.f + 1) return
  c.info(`adopting new-view ${nv.view} relayed by ${votes} replicas (was in view ${c.view}${c.activeView ? '' : ', changing'})`)
  c.nvRelays.clear()
  if (nv.view > c.view) moveToView(c, nv.view)
  c.newViewStore.set(nv.view, nv)
  c.lateJoin = true
  return processNewView(c)
}

/** Leaves the current view for `view` without a view-change message of our own (the new view exists). */
function moveToView (c: PbftCore, view: number): void {
  c.stopTimer()
  c.vcResendTimer.stop()
  c.newViewStore.delete(c.view)
  c.view = view
  c.activeView = false
  c.pset = calcPSet(c)
  c.qset = calcQSet(c)
  for (const [key, cert] of c.certStore) if (cert.view < view) c.certStore.delete(key)
  for (const [key, vc] of c.viewChangeStore) if (vc.view < view) c.viewChangeStore.delete(key)
}

type ViewMessage = Extract<CoreEvent, { kind: 'prePrepare' | 'prepare' | 'commit' }>

/**
 * Weft: a pre-prepare, prepare or commit for a view we are about to enter (its new-view has not
 * reached us, or overtook it on the way) is kept instead of dropped, and replayed once we are in
 * that view. At most 3·L per sender, so a replica sending junk for future views cannot grow it.
 */
export function holdForView (c: PbftCore, msg: PrePrepare | Prepare | Commit, kind: ViewMessage['kind']): boolean {
  if (!c.ext.holdFutureViews || msg.view < c.view || (msg.view === c.view && c.activeView)) return false
  let held = c.heldForView.get(msg.replicaId)
  if (held === undefined) c.heldForView.set(msg.replicaId, held = [])
  if (held.length >= 3 * c.L) held.shift()
  held.push({ kind, msg } as ViewMessage)
  c.debug(`holding ${kind} for view=${msg.view}/seqNo=${msg.seqNo} from replica ${msg.replicaId} until we are in that view`)
  return true
}

/** Replays what was held for the view just entered; drops what belongs to earlier views. */
export function releaseHeld (c: PbftCore): void {
  for (const [replica, held] of c.heldForView) {
    const keep: ViewMessage[] = []
    for (const e of held) {
      if (e.msg.view === c.view) c.post(e)
      else if (e.msg.view > c.view) keep.push(e)
    }
    if (keep.length > 0) c.heldForView.set(replica, keep)
    else c.heldForView.delete(replica)
  }
}
