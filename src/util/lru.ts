/**
 * A Map bounded by the total weight of its values: past `capacity`, the least recently used
 * entries go (`onEvict` hears of each).
 */
export class LruMap<K, V> {
  private readonly map = new Map<K, { value: V, weight: number }>()
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
    // Map keeps insertion order: re-inserting makes this the most recently used.
    this.map.delete(key)
    this.map.set(key, e)
    return e.value
  }

  has (key: K): boolean { return this.map.has(key) }

  set (key: K, value: V): void {
    this.delete(key)
    const weight = this.weigh(value)
    this.map.set(key, { value, weight })
    this.total += weight
    while (this.total > this.capacity && this.map.size > 0) {
      const [oldest, e] = this.map.entries().next().value as [K, { weight: number }]
      this.map.delete(oldest)
      this.total -= e.weight
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
