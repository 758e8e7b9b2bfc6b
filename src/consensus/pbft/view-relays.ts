import type { ViewMessage } from './events.ts'

/**
 * What view sync (viewsync.ts) keeps at a replica: to whom our new-view went in the current view,
 * which new-view each replica relayed to us, and the messages for views we have not entered yet.
 */
export class ViewRelays {
  readonly #relayedTo = new Set<string>()
  readonly #nvRelays = new Map<number, string>()
  /** By sender. */
  readonly #heldForView = new Map<number, ViewMessage[]>()

  /** At most this many messages held per sender, so junk cannot grow them. */
  constructor (private readonly holdLimit: number) {}

  /** Notes that our new-view for `view` went to `to`; false when it had already. */
  recordRelay (to: number, view: number): boolean {
    const key = `${to}:${view}`
    if (this.#relayedTo.has(key)) return false
    this.#relayedTo.add(key)
    return true
  }

  /** A new view began: our new-view has gone to nobody yet. */
  clearRelays (): void { this.#relayedTo.clear() }

  /** One relayed new-view per sender, the latest (a replica cannot vote twice); returns the votes for `key`. */
  recordNewViewRelay (sender: number, key: string): number {
    this.#nvRelays.set(sender, key)
    let votes = 0
    for (const k of this.#nvRelays.values()) if (k === key) votes++
    return votes
  }

  clearNewViewRelays (): void { this.#nvRelays.clear() }

  /** Keeps a message for a view not entered yet; past the limit a sender's oldest goes. */
  holdForView (e: ViewMessage): void {
    const replica = e.msg.replicaId
    let held = this.#heldForView.get(replica)
    if (held === undefined) this.#heldForView.set(replica, held = [])
    if (held.length >= this.holdLimit) held.shift()
    held.push(e)
  }

  /** How many replicas sent messages held for views above `view`, and the lowest of those views. */
  heldAhead (view: number): { replicas: number, minView: number } {
    let replicas = 0
    let minView = Number.POSITIVE_INFINITY
    for (const held of this.#heldForView.values()) {
      const ahead = held.filter(e => e.msg.view > view)
      if (ahead.length === 0) continue
      replicas++
      for (const e of ahead) minView = Math.min(minView, e.msg.view)
    }
    return { replicas, minView }
  }

  /** Takes what was held for `view`; drops what belongs to earlier views. */
  takeHeldForView (view: number): ViewMessage[] {
    const now: ViewMessage[] = []
    for (const [replica, held] of this.#heldForView) {
      const keep: ViewMessage[] = []
      for (const e of held) {
        if (e.msg.view === view) now.push(e)
        else if (e.msg.view > view) keep.push(e)
      }
      if (keep.length > 0) this.#heldForView.set(replica, keep)
      else this.#heldForView.delete(replica)
    }
    return now
  }
}
