import { toBase64 } from '../../crypto/bytes.ts'
import type { Checkpoint } from './messages.ts'
import type { PbftStore } from './persist.ts'

const chkptKey = (n: number, replica: number): string => `${n}:${replica}`

/**
 * A replica's checkpoints: its own (persisted), the ones replicas sent inside its window, and
 * the newest each replica reported at or above its high watermark.
 */
export class CheckpointStore {
  /** Own checkpoints: sequence number → base64 id. */
  readonly #own = new Map<number, string>()
  /** One per (sequence number, replica). */
  readonly #received = new Map<string, Checkpoint>()
  readonly #high = new Map<number, Checkpoint>()

  /** `persisted`: the own checkpoints a restarted replica read back (sequence number → id). */
  constructor (private readonly store: PbftStore, persisted: ReadonlyMap<number, Uint8Array>) {
    for (const [n, id] of persisted) this.#own.set(n, toBase64(id))
  }

  get own (): ReadonlyMap<number, string> { return this.#own }
  get received (): ReadonlyMap<string, Checkpoint> { return this.#received }
  get high (): ReadonlyMap<number, Checkpoint> { return this.#high }

  storeOwn (chk: Checkpoint, id: Uint8Array): void {
    this.#own.set(chk.seqNo, chk.id)
    this.store.storeCheckpoint(chk.seqNo, id)
  }

  /** Keeps a replica's checkpoint; returns (and keeps) the one it sent before for that sequence number, if any. */
  record (chk: Checkpoint): Checkpoint | undefined {
    const key = chkptKey(chk.seqNo, chk.replicaId)
    const earlier = this.#received.get(key)
    if (earlier === undefined) this.#received.set(key, chk)
    return earlier
  }

  recordHigh (chk: Checkpoint): void { this.#high.set(chk.replicaId, chk) }
  forgetHigh (replica: number): void { this.#high.delete(replica) }
  forgetHighBelow (n: number): void {
    for (const [replica, high] of this.#high) if (high.seqNo < n) this.#high.delete(replica)
  }

  /** The low watermark moved to `h`: received checkpoints at or below it go, and own ones below it. */
  moveWatermark (h: number): void {
    for (const [key, chk] of this.#received) if (chk.seqNo <= h) this.#received.delete(key)
    for (const n of this.#own.keys()) {
      if (n < h) {
        this.#own.delete(n)
        this.store.delCheckpoint(n)
      }
    }
  }
}
