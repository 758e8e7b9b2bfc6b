import { LruMap } from '../util/lru.ts'
import type { StateDelta } from './state-delta.ts'

type Value = Uint8Array | null

/**
 * Recently used committed values (null = no value), so that hot keys are read from the store
 * once, not at every GET_STATE and every write's previous-value lookup (whatever the state
 * implementation caches itself, a key only read is kept here too). Updated from each persisted
 * batch's delta; a read that raced a commit is not cached (the generation moved on while it was
 * in flight). Callers get copies.
 */
export class CommittedCache {
  private readonly values: LruMap<string, Value>
  private generation = 0

  constructor (limit = 50_000) {
    this.values = new LruMap(limit)
  }

  async get (chaincodeID: string, key: string, read: () => Promise<Value>): Promise<Value> {
    const k = cacheKey(chaincodeID, key)
    const hit = this.values.get(k)
    if (hit !== undefined) return hit === null ? null : hit.slice()
    const at = this.generation
    const value = await read()
    if (at === this.generation) this.put(k, value)
    return value
  }

  /** A batch's delta was persisted: its keys now hold its values. */
  persisted (delta: StateDelta): void {
    this.generation++
    for (const [cc, kvs] of delta.chaincodes) {
      for (const [key, u] of kvs) this.put(cacheKey(cc, key), u.value)
    }
  }

  /** Keeps its own copy: callers may change what they were given, and a view would pin its whole buffer. */
  private put (k: string, value: Value): void {
    this.values.set(k, value === null ? null : value.slice())
  }
}

// Chaincode ids cannot hold NUL (Fabric's composite keys rely on the same separator).
const cacheKey = (chaincodeID: string, key: string): string => `${chaincodeID}\u0000${key}`
