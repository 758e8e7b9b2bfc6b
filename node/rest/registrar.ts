import { decodeFirstGoJson, GoJsonSyntaxError, type JsonNode } from '../../src/gojson/parse.ts'
import { certDerToPem } from '../../src/crypto/fabric/pem.ts'
import { membershipUnavailable } from '../../src/peer-api.ts'
import type { Member } from '../../src/security/member.ts'
import type { Users } from '../../src/security/users.ts'
import { errorMessage } from '../../src/util/errors.ts'
import type { LoginTokens } from '../peer/login-tokens.ts'
import { restError, restOK, type RestReply } from './replies.ts'

/**
 * /registrar as Fabric answers it: the request checks (payload, blank fields, enrollment id
 * pattern, count parameter), then login through membership services with a login token under
 * peer.fileSystemPath/client, and the user's certificates. On a peer without membership
 * services login fails (401), nobody is logged in, and no certificate can be issued.
 */
export interface RegistrarDeps {
  securityEnabled: boolean
  /** rest.validPatterns.enrollmentID compiled (unanchored unless the pattern anchors itself, as Go's MatchString); undefined when the key is empty. */
  enrollmentID: RegExp | undefined
  /** The peer's users, when it has membership services. */
  users?: Users
  tokens: LoginTokens
}

/** Compiles rest.validPatterns.enrollmentID at startup, so a bad pattern stops the peer instead of every request. */
export function compileEnrollmentIDPattern (pattern: string): RegExp | undefined {
  if (pattern === '') return undefined
  try {
    return new RegExp(pattern)
  } catch (err) {
    throw new Error(`rest.validPatterns.enrollmentID "${pattern}" is not a valid pattern: ${(err as Error).message}`)
  }
}

function checkEnrollmentID (id: string, deps: RegistrarDeps): RestReply | undefined {
  if (deps.enrollmentID === undefined) return restError(500, 'Missing configuration key rest.validPatterns.enrollmentID')
  if (!deps.enrollmentID.test(id)) return restError(400, 'Invalid enrollment ID parameter')
  return undefined
}

/** jsonpb.Unmarshal of protos.Secret: exact member names, unknown members refused. */
function readSecret (body: string): { enrollId: string, enrollSecret: string } | RestReply {
  let node: JsonNode | undefined
  try {
    node = decodeFirstGoJson(body)
  } catch (err) {
    if (err instanceof GoJsonSyntaxError) return restError(400, err.message)
    throw err
  }
  if (node === undefined) return restError(400, 'Payload must contain object Secret with enrollId and enrollSecret fields.')
  const secret = { enrollId: '', enrollSecret: '' }
  if (node.kind === 'null') return secret
  if (node.kind !== 'object') return restError(400, `json: cannot unmarshal ${node.kind} into Go value of type map[string]json.RawMessage`)
  const members = new Map(node.entries)
  for (const name of ['enrollId', 'enrollSecret'] as const) {
    const v = members.get(name)
    members.delete(name)
    if (v === undefined || v.kind === 'null') continue
    if (v.kind !== 'string') return restError(400, `json: cannot unmarshal ${v.kind} into Go value of type string`)
    secret[name] = v.value
  }
  const unknown = members.keys().next()
  if (unknown.done !== true) return restError(400, `unknown field "${unknown.value}" in protos.Secret`)
  return secret
}

/** POST /registrar: a user with a login token is already logged in; else Devops.Login, and a token on success. */
export async function register (body: string, deps: RegistrarDeps): Promise<RestReply> {
  const secret = readSecret(body)
  if ('status' in secret) return secret
  const { enrollId, enrollSecret } = secret
  if (enrollId === '' || enrollSecret === '') return restError(400, 'enrollId and enrollSecret may not be blank.')
  const bad = checkEnrollmentID(enrollId, deps)
  if (bad !== undefined) return bad
  if (await deps.tokens.has(enrollId)) return restOK(`User ${enrollId} is already logged in.`)
  if (deps.users === undefined) return restError(401, membershipUnavailable(deps.securityEnabled))
  try {
    await deps.users.login(enrollId, enrollSecret)
  } catch (err) {
    return restError(401, errorMessage(err))
  }
  await deps.tokens.put(enrollId)
  return restOK(`Login successful for user '${enrollId}'.`)
}

/** GET /registrar/:id: logged in means a login token. */
export async function getEnrollmentID (id: string, deps: RegistrarDeps): Promise<RestReply> {
  return checkEnrollmentID(id, deps) ??
    (await deps.tokens.has(id) ? restOK(`User ${id} is already logged in.`) : restError(401, `User ${id} must log in.`))
}

/** DELETE /registrar/:id: removes the login token and the user's keys. */
export async function deleteEnrollmentID (id: string, deps: RegistrarDeps): Promise<RestReply> {
  const bad = checkEnrollmentID(id, deps)
  if (bad !== undefined) return bad
  const enrolled = await deps.users?.isEnrolled(id) ?? false
  if (!(await deps.tokens.has(id)) && !enrolled) return restOK(`User ${id} is not logged in.`)
  try {
    await deps.tokens.remove(id)
  } catch (err) {
    return restError(500, `Error trying to delete login token for user ${id}: ${errorMessage(err)}`)
  }
  try {
    await deps.users?.remove(id)
  } catch (err) {
    return restError(500, `Error trying to delete login directory for user ${id}: ${errorMessage(err)}`)
  }
  return restOK(`Deleted login token and directory for user ${id}.`)
}

/** The user's keys, or why there are none (400, as Fabric answers a failed InitClient). */
async function certificatesOf (id: string, deps: RegistrarDeps): Promise<Member | RestReply> {
  if (!deps.securityEnabled) return restError(400, 'Security functionality must be enabled before requesting client certificates.')
  if (deps.users === undefined) return restError(400, membershipUnavailable(true))
  try {
    return await deps.users.member(id)
  } catch (err) {
    return restError(400, errorMessage(err))
  }
}

/** GET /registrar/:id/ecert: the enrollment certificate, PEM, URL-query-escaped. */
export async function getEnrollmentCert (id: string, deps: RegistrarDeps): Promise<RestReply> {
  const bad = checkEnrollmentID(id, deps)
  if (bad !== undefined) return bad
  const member = await certificatesOf(id, deps)
  if ('status' in member) return member
  const der = member.enrollment.cert
  if (der.length === 0) return restError(500, 'Enrollment certificate length is 0.')
  return restOK(queryEscape(certDerToPem(der)))
}

/**
 * GET /registrar/:id/tcert[?count=N]: count is checked as Fabric does (uint32, 1 when 0, at most
 * 500), and, as Fabric's loop does, the list holds `count` copies of the one next TCert.
 */
export async function getTransactionCert (id: string, rawQuery: string, deps: RegistrarDeps): Promise<RestReply> {
  const bad = checkEnrollmentID(id, deps)
  if (bad !== undefined) return bad
  const param = new URLSearchParams(rawQuery).get('count')
  let count = 1
  if (param !== null) {
    if (!/^[0-9]+$/.test(param) || BigInt(param) > 0xffffffffn) return restError(400, 'Count query parameter must be a non-negative integer.')
    count = Math.min(Math.max(Number(param), 1), 500)
  }
  const member = await certificatesOf(id, deps)
  if ('status' in member) return member
  let der: Uint8Array
  try {
    der = (await member.nextTCert()).cert
  } catch (err) {
    return restError(500, errorMessage(err))
  }
  if (der.length === 0) return restError(500, 'Transaction certificate length is 0.')
  const cert = JSON.stringify(queryEscape(certDerToPem(der)))
  return { status: 200, body: `{"OK":[${Array(count).fill(cert).join(',')}]}\n` }
}

/** Go's url.QueryEscape: space as '+', everything but letters, digits and -_.~ percent-escaped. */
function queryEscape (s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+')
}
