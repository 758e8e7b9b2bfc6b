import type { NewView, ViewChange } from './messages.ts'

const vcKey = (v: number, replica: number): string => `${v}:${replica}`

/** The view-change messages a replica received, one per (view, replica), and the new-views by view. */
export class ViewChangeStore {
  readonly #viewChanges = new Map<string, ViewChange>()
  readonly #newViews = new Map<number, NewView>()

  get viewChanges (): ReadonlyMap<string, ViewChange> { return this.#viewChanges }
  get newViews (): ReadonlyMap<number, NewView> { return this.#newViews }

  /** False when that replica's view-change for that view is already here. */
  record (vc: ViewChange): boolean {
    const key = vcKey(vc.view, vc.replicaId)
    if (this.#viewChanges.has(key)) return false
    this.#viewChanges.set(key, vc)
    return true
  }

  storeNewView (nv: NewView): void { this.#newViews.set(nv.view, nv) }

  /** Moving to `view`: only its messages and later ones are ever read. */
  dropBelow (view: number): void {
    for (const v of this.#newViews.keys()) if (v < view) this.#newViews.delete(v)
    for (const [key, vc] of this.#viewChanges) if (vc.view < view) this.#viewChanges.delete(key)
  }
}
