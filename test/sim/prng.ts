import { seededRandom, type Random } from '../../src/util/scheduler.ts'

/** The only source of randomness in a simulation: src/util/scheduler.ts's seeded sfc32, with helpers for choosing. */
export class Prng {
  /** Uniform in [0, 1). */
  readonly next: Random

  constructor (readonly seed: number) {
    this.next = seededRandom(seed)
  }

  /** Integer in [0, n). */
  int (n: number): number { return Math.floor(this.next() * n) }

  /** Integer in [lo, hi]. */
  range (lo: number, hi: number): number { return lo + this.int(hi - lo + 1) }

  chance (p: number): boolean { return this.next() < p }

  pick<T> (items: readonly T[]): T { return items[this.int(items.length)] }

  /** An independent generator derived from this one. */
  fork (): Prng { return new Prng(this.int(2 ** 32)) }
}
