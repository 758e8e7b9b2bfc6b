import type { StateWrite } from '../cache-fields.ts'

/** Past this many bytes of keys and values the cache starts over, so a chaincode's heap stays bounded. */
const defaultBudget = 16 * 1024 * 1024

/**
 * A chaincode's copy of its own namespace as the transactions of one cache session of the peer
 * see it (src/chaincode/cache-fields.ts). Sound because only this chaincode writes its namespace
 * and the peer runs a session's transactions one at a time, in order: the peer opens a new
 * session (which drops the cache) whenever the state may have changed another way.
 */
export class StateCache {
  private session = 0
  private readonly values = new Map<string, Uint8Array | null>()
  private bytes = 0

  constructor (private readonly budget = defaultBudget) {}

  /** A TRANSACTION of `session` begins; undefined when there is no session (every read asks the peer). */
  begin (session: number): TxState | undefined {
    if (session !== this.session) {
      this.clear()
      this.session = session
    }
    return session === 0 ? undefined : new TxState(this)
  }

  /** The value (null = absent), or undefined when not cached. */
  get (key: string): Uint8Array | null | undefined { return this.values.get(key) }

  set (key: string, value: Uint8Array | null): void {
    const old = this.values.get(key)
    if (old !== undefined) this.bytes -= key.length + (old?.length ?? 0)
    this.values.set(key, value)
    this.bytes += key.length + (value?.length ?? 0)
    if (this.bytes > this.budget) this.clear()
  }

  clear (): void {
    this.values.clear()
    this.bytes = 0
  }
}

/**
 * One transaction's view of its namespace: its own writes, over the cache, over the peer (asked
 * on a miss). Writes are kept until the transaction answers, or until a request that must see
 * them at the peer (range query, call to another chaincode) takes them first.
 */
export class TxState {
  private readonly written = new Map<string, Uint8Array | null>()
  private unsent: StateWrite[] = []
  private open = true

  constructor (private readonly cache: StateCache) {}

  /** The key's value; `fetch` asks the peer, whose answer is the state before this transaction (its writes are here, not there). */
  async get (key: string, fetch: () => Promise<Uint8Array | undefined>): Promise<Uint8Array | undefined> {
    const own = this.written.get(key)
    if (own !== undefined || this.written.has(key)) return own?.slice() ?? undefined
    const cached = this.cache.get(key)
    if (cached !== undefined) return cached?.slice() ?? undefined
    const value = await fetch()
    // An answer that arrives after the transaction ended may predate its writes: not kept.
    if (this.open) this.cache.set(key, value?.slice() ?? null)
    return value
  }

  /** Records a write (null = delete); `value` must be the transaction's own copy. */
  put (key: string, value: Uint8Array | null): void {
    this.written.set(key, value)
    this.unsent.push([key, value])
  }

  /** The writes the peer has not been sent yet, in order; from now on it has them. */
  takeUnsent (): StateWrite[] {
    const u = this.unsent
    this.unsent = []
    return u
  }

  /**
   * The transaction answered. The writes of one that completed are the state the next one sees;
   * after a failure the peer may or may not keep them (a calling chaincode decides), so the cache goes.
   */
  finish (completed: boolean): void {
    this.open = false
    if (!completed) {
      this.cache.clear()
      return
    }
    for (const [key, value] of this.written) this.cache.set(key, value)
  }
}
