/**
 * A Map bounded by the total weight of its values: past `capacity`, entries not used since they
 * were last passed over go, oldest first (`onEvict` hears of each). Least recently used, nearly:
 * a read only marks its entry (the second-chance clock), so the bucket tree's thousands of reads
 * a block cost a lookup each, not a delete and a re-insert.
 */
export class LruMap<K, V> {
  private readonly map = new Map<K, { value: V, weight: number, used: boolean }>()
  private total = 0

  constructor (
    readonly capacity: number,
    private readonly weigh: (value: V) => number = () => 1,
    private readonly onEvict?: (key: K) => void
  ) {}

  get size (): number { return this.map.size }

  get (key: K): V | undefined {
    const e = this.map.get(key)
    if (e === undefined) return undefined
    e.used = true
    return e.value
  }

  has (key: K): boolean { return this.map.has(key) }

  set (key: K, value: V): void {
    const weight = this.weigh(value)
    const e = this.map.get(key)
    if (e === undefined) this.map.set(key, { value, weight, used: false })
    else {
      this.total -= e.weight
      e.value = value
      e.weight = weight
      e.used = true
    }
    this.total += weight
    while (this.total > this.capacity && this.map.size > 0) {
      const [oldest, o] = this.map.entries().next().value as [K, { weight: number, used: boolean }]
      this.map.delete(oldest)
      // Used since it was last passed over: it goes to the back, unmarked, instead.
      if (o.used) {
        o.used = false
        this.map.set(oldest, o as { value: V, weight: number, used: boolean })
        continue
      }
      this.total -= o.weight
      this.onEvict?.(oldest)
    }
  }

  delete (key: K): void {
    const e = this.map.get(key)
    if (e === undefined) return
    this.map.delete(key)
    this.total -= e.weight
  }
}
