import { fromUtf8 } from '../crypto/bytes.ts'
import { splitCompositeKey } from '../ledger/keys.ts'
import type { Ledger } from '../ledger/ledger.ts'
import { StateDelta } from '../ledger/state-delta.ts'
import type { SyncStateSnapshot } from '../protos/fabric_pb.ts'
import { MisbehaviourError } from './errors.ts'

/** Collects the chunks of one state snapshot, checking their order, until the empty chunk ends it. */
export class SnapshotAssembler {
  readonly delta = new StateDelta()
  blockNumber = -1
  done = false
  private sequence = 0n

  constructor (private readonly from: string) {}

  add (chunk: SyncStateSnapshot): void {
    const b = Number(chunk.blockNumber)
    if (this.blockNumber < 0) this.blockNumber = b
    else if (b !== this.blockNumber) throw new MisbehaviourError(`the snapshot from ${this.from} switched from block ${this.blockNumber} to block ${b}`)
    if (chunk.delta.length === 0) {
      this.done = true
      return
    }
    if (chunk.sequence !== this.sequence) throw new MisbehaviourError(`snapshot chunk ${chunk.sequence} from ${this.from} arrived when chunk ${this.sequence} was due`)
    this.sequence++
    let part: StateDelta
    try {
      part = StateDelta.unmarshal(chunk.delta)
    } catch (err) {
      throw new MisbehaviourError(`the snapshot from ${this.from} has a corrupt chunk ${chunk.sequence}: ${(err as Error).message}`)
    }
    for (const e of part.entries()) {
      if (e.value === null) throw new MisbehaviourError(`the snapshot from ${this.from} deletes ${e.chaincodeID}/${e.key} instead of giving its value`)
      this.delta.set(e.chaincodeID, e.key, e.value, null)
    }
  }
}

/** The delta that turns the ledger's current state into exactly `snapshot`: its keys set, every other key deleted. */
export async function replacementDelta (ledger: Ledger, snapshot: StateDelta): Promise<StateDelta> {
  const out = new StateDelta()
  const current = new Map<string, Map<string, Uint8Array>>()
  for (const [composite, value] of (await ledger.stateSnapshot()).entries) {
    const [ccBytes, keyBytes] = splitCompositeKey(composite)
    const cc = fromUtf8(ccBytes)
    const key = fromUtf8(keyBytes)
    let kvs = current.get(cc)
    if (kvs === undefined) current.set(cc, kvs = new Map())
    kvs.set(key, value)
    if (!snapshot.has(cc, key)) out.set(cc, key, null, value)
  }
  for (const e of snapshot.entries()) out.set(e.chaincodeID, e.key, e.value, current.get(e.chaincodeID)?.get(e.key) ?? null)
  return out
}
