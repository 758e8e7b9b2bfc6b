import { utf8 } from '../crypto/bytes.ts'
import { errorMessage } from '../util/errors.ts'
import { createLogger } from '../util/logger.ts'
import { CaError } from './errors.ts'
import { checkCanRegister, requiresAffiliation } from './roles.ts'
import { UserState, type AffiliationRecord, type CaStore } from './store.ts'

const log = createLogger('eca')

/** One line of membersrvc.yaml's `eca.users`: `<role> <secret> [<affiliation> [<metadata> [<registrar>]]]`. */
export interface UserEntry {
  id: string
  role: number
  secret: string
  affiliation: string
  metadata: string
  registrar: string
}

export function parseUserEntry (id: string, line: string): UserEntry {
  const fields = line.trim().split(/\s+/)
  const role = Number(fields[0])
  if (!Number.isInteger(role) || fields.length < 2) {
    throw new CaError('INVALID_ARGUMENT', `eca.users.${id}: expected "<role> <secret> [affiliation [metadata [registrar]]]", got "${line}"`)
  }
  return { id, role, secret: fields[1], affiliation: fields[2] ?? '', metadata: fields[3] ?? '', registrar: fields[4] ?? '' }
}

/**
 * membersrvc.yaml's `eca.affiliations` as groups with their parents: the top keys are roots,
 * their keys the next level, and each of those lists its leaves (Fabric reads exactly three levels).
 */
export function affiliationGroups (tree: Record<string, unknown>): AffiliationRecord[] {
  const out: AffiliationRecord[] = []
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
  for (const [root, middle] of Object.entries(tree)) {
    out.push({ name: root, parent: '' })
    if (!isMap(middle)) continue
    for (const [group, leaves] of Object.entries(middle)) {
      out.push({ name: group, parent: root })
      const names = Array.isArray(leaves) ? leaves : typeof leaves === 'string' ? leaves.split(/[\s,]+/).filter(s => s !== '') : []
      for (const leaf of names) out.push({ name: String(leaf), parent: group })
    }
  }
  return out
}

/** Fabric strips one pair of surrounding quotes from metadata given in the users table. */
function removeQuotes (s: string): string {
  if (s.length >= 2 && ((s.startsWith("'") && s.endsWith("'")) || (s.startsWith('"') && s.endsWith('"')))) return s.slice(1, -1)
  return s
}

/** Letters only, as Fabric's randomString; from a cryptographic source (Fabric's came from math/rand). */
export function randomToken (randomBytes: (n: number) => Uint8Array, n = 12): string {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
  let out = ''
  while (out.length < n) {
    for (const b of randomBytes(n)) {
      const i = b & 63
      if (i < letters.length && out.length < n) out += letters[i]
    }
  }
  return out
}

export interface Registration {
  id: string
  role: number
  affiliation: string
  /** Registrar rights of the new member (JSON), or empty. */
  metadata: string
  /** Who registers it: its rights are checked; empty for the users table. */
  registrar: string
  /** The enrollment secret; a random one when absent. */
  secret?: string
}

/** `id\affiliation` for members that need an affiliation (which must exist), else empty. */
async function enrollmentIdFor (store: CaStore, id: string, affiliation: string, role: number): Promise<string> {
  if (!requiresAffiliation(role)) return ''
  if (await store.affiliation(affiliation) === undefined) throw new CaError('INVALID_ARGUMENT', `Invalid affiliation group ${affiliation}`)
  if (id === '' || affiliation === '') throw new CaError('INVALID_ARGUMENT', 'Please provide all the input parameters, id and role')
  if (id.includes('\\') || affiliation.includes('\\')) throw new CaError('INVALID_ARGUMENT', 'Do not include the escape character \\ as part of the values')
  return `${id}\\${affiliation}`
}

/** Adds a user (Fabric's CA.registerUser) and returns its enrollment secret; nothing is written if any check fails. */
export async function registerUser (store: CaStore, reg: Registration, randomBytes: (n: number) => Uint8Array): Promise<string> {
  const metadata = removeQuotes(reg.metadata)
  return await store.mutate(async batch => {
    if (reg.registrar !== '') {
      const registrar = await store.user(reg.registrar)
      if (registrar === undefined) throw new CaError('NOT_FOUND', `registrar ${reg.registrar} is not a registered user`)
      checkCanRegister(reg.registrar, registrar.metadata, reg.role, metadata)
    }
    const enrollmentId = await enrollmentIdFor(store, reg.id, reg.affiliation, reg.role)
    if (await store.user(reg.id) !== undefined) throw new CaError('ALREADY_EXISTS', 'User is already registered')
    const secret = reg.secret !== undefined && reg.secret !== '' ? reg.secret : randomToken(randomBytes)
    batch.putUser({ id: reg.id, enrollmentId, role: reg.role, metadata, token: utf8(secret), state: UserState.registered })
    return secret
  })
}

/**
 * Fabric's first start: affiliation groups, then the users table. Entries already there stay as
 * they are (Fabric ignores "already registered" on every start), so enrolled users keep their state.
 */
export async function populate (store: CaStore, affiliations: Record<string, unknown>, users: Record<string, unknown>, randomBytes: (n: number) => Uint8Array): Promise<void> {
  const groups = affiliationGroups(affiliations)
  await store.mutate(async batch => {
    for (const g of groups) if (await store.affiliation(g.name) === undefined) batch.putAffiliation(g)
  })
  for (const [id, line] of Object.entries(users)) {
    const entry = parseUserEntry(id, String(line))
    if (await store.user(id) !== undefined) continue
    try {
      await registerUser(store, entry, randomBytes)
    } catch (err) {
      // Fabric skips such a line silently; say which and why.
      log.warn(`eca.users.${id} not registered: ${errorMessage(err)}`)
    }
  }
}
