import { CaError } from './errors.ts'

/** Member roles, as ca.proto's Role (powers of two, or-ed into a user's role). */
export const MemberRole = { none: 0, client: 1, peer: 2, validator: 4, auditor: 8, all: 0xFFFF } as const

const names: Record<number, string> = { 1: 'client', 2: 'peer', 4: 'validator', 8: 'auditor' }

/** The role's name in registrar metadata ("client", …); empty for anything but a single role, as Fabric's role2String. */
export function roleName (role: number): string {
  return names[role] ?? ''
}

/** Registrar rights a user's metadata grants. */
export interface RegistrarRights {
  roles: string[]
  delegateRoles: string[]
}

/** Reads `{"registrar":{"roles":[…],"delegateRoles":[…]}}`; undefined for empty metadata. */
export function parseMetadata (metadata: string): RegistrarRights | undefined {
  if (metadata === '') return undefined
  let doc: unknown
  try {
    doc = JSON.parse(metadata)
  } catch (err) {
    throw new CaError('INVALID_ARGUMENT', `member metadata is not JSON: ${(err as Error).message}`)
  }
  const r = (doc as { registrar?: { roles?: unknown, delegateRoles?: unknown } } | null)?.registrar
  const list = (v: unknown): string[] => Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
  return { roles: list(r?.roles), delegateRoles: list(r?.delegateRoles) }
}

/**
 * Whether `registrar` (with metadata `registrarMetadata`) may register a member of `role`
 * whose own metadata is `newMetadata`: the role must be in its roles, and every role the new
 * member may register in turn must be in its delegateRoles. Throws as Fabric's canRegister.
 */
export function checkCanRegister (registrar: string, registrarMetadata: string, role: number, newMetadata: string): void {
  if (registrarMetadata === '') throw new CaError('PERMISSION_DENIED', `member ${registrar} is not a registrar`)
  const rights = parseMetadata(registrarMetadata)!
  const wanted = roleName(role)
  if (!rights.roles.includes(wanted)) {
    throw new CaError('PERMISSION_DENIED', `member ${registrar} may not register member of type ${wanted}`)
  }
  const asked = parseMetadata(newMetadata)
  if (asked === undefined) return
  for (const r of asked.roles) {
    if (!rights.delegateRoles.includes(r)) throw new CaError('PERMISSION_DENIED', `user ${registrar} may not register delegateRoles ${r}`)
  }
}

/** Validators and auditors have no affiliation; every other member needs one. */
export function requiresAffiliation (role: number): boolean {
  return role !== MemberRole.validator && role !== MemberRole.auditor
}
