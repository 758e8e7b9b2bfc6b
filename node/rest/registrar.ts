import { decodeFirstGoJson, GoJsonSyntaxError, type JsonNode } from '../../src/gojson/parse.ts'
import { membershipUnavailable } from '../../src/peer-api.ts'
import { restError, restOK, type RestReply } from './replies.ts'

/**
 * /registrar as Fabric answers it when no membership service can enrol anyone: the request
 * checks run as in Fabric (payload, blank fields, enrollment id pattern, count parameter),
 * and then login fails (401), nobody is logged in, and no certificate can be issued.
 */
export interface RegistrarDeps {
  securityEnabled: boolean
  /** rest.validPatterns.enrollmentID compiled (unanchored unless the pattern anchors itself, as Go's MatchString); undefined when the key is empty. */
  enrollmentID: RegExp | undefined
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

/** POST /registrar */
export function register (body: string, deps: RegistrarDeps): RestReply {
  const secret = readSecret(body)
  if ('status' in secret) return secret
  if (secret.enrollId === '' || secret.enrollSecret === '') return restError(400, 'enrollId and enrollSecret may not be blank.')
  return checkEnrollmentID(secret.enrollId, deps) ?? restError(401, membershipUnavailable(deps.securityEnabled))
}

/** GET /registrar/:id */
export function getEnrollmentID (id: string, deps: RegistrarDeps): RestReply {
  return checkEnrollmentID(id, deps) ?? restError(401, `User ${id} must log in.`)
}

/** DELETE /registrar/:id */
export function deleteEnrollmentID (id: string, deps: RegistrarDeps): RestReply {
  return checkEnrollmentID(id, deps) ?? restOK(`User ${id} is not logged in.`)
}

function noCertificates (deps: RegistrarDeps): RestReply {
  return deps.securityEnabled
    ? restError(400, membershipUnavailable(true))
    : restError(400, 'Security functionality must be enabled before requesting client certificates.')
}

/** GET /registrar/:id/ecert */
export function getEnrollmentCert (id: string, deps: RegistrarDeps): RestReply {
  return checkEnrollmentID(id, deps) ?? noCertificates(deps)
}

/** GET /registrar/:id/tcert[?count=N]: count is checked as Fabric does (uint32), then no certificates. */
export function getTransactionCert (id: string, rawQuery: string, deps: RegistrarDeps): RestReply {
  const bad = checkEnrollmentID(id, deps)
  if (bad !== undefined) return bad
  const count = new URLSearchParams(rawQuery).get('count')
  if (count !== null && (!/^[0-9]+$/.test(count) || BigInt(count) > 0xffffffffn)) {
    return restError(400, 'Count query parameter must be a non-negative integer.')
  }
  return noCertificates(deps)
}
