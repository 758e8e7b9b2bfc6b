import type { RandomBytes } from '../crypto/fabric/ec-key.ts'
import type { CryptoSuite } from '../crypto/fabric/suite.ts'
import type { Scheduler } from '../util/scheduler.ts'
import type { Subject } from './certificates.ts'
import { CaError } from './errors.ts'
import type { CaStore } from './store.ts'

/** What every authority of one membership service shares. */
export interface CaContext {
  store: CaStore
  /** security.level and security.hashAlgorithm: the curve of the authorities' keys and the hash of every check. */
  suite: CryptoSuite
  scheduler: Scheduler
  randomBytes: RandomBytes
  /** pki.ca.subject */
  subject: Subject
}

/** A request field Fabric dereferences without a check (a nil pointer there panics its handler). */
export function required<T> (value: T | undefined, what: string): T {
  if (value === undefined) throw new CaError('INVALID_ARGUMENT', `${what} is missing`)
  return value
}

/** Runs a parse of request bytes, turning its failure into INVALID_ARGUMENT naming the field. */
export function parsed<T> (what: string, parse: () => T): T {
  try {
    return parse()
  } catch (err) {
    throw new CaError('INVALID_ARGUMENT', `${what}: ${(err as Error).message}`)
  }
}
