import { create } from '@bufbuild/protobuf'
import { parseRpcRequest, type RpcId } from '../../src/gojson/rpc-request.ts'
import type { PeerApi } from '../../src/peer-api.ts'
import { ChaincodeInvocationSpecSchema, ConfidentialityLevel, type ChaincodeSpec } from '../../src/protos/chaincode_pb.ts'
import type { LoginTokens } from '../peer/login-tokens.ts'
import { rpcFail, rpcOK, rpcResponseJson, type RestReply, type RpcErrorKind, type RpcResult } from './replies.ts'

export interface ChaincodeRpcDeps {
  peer: PeerApi
  /** chaincode.mode is dev: deploys are named by chaincodeID.name instead of a path. */
  devMode: boolean
  /** security.enabled: requests must name a user with a login token, who signs the transaction. */
  securityEnabled: boolean
  /** security.privacy: a logged-in user's transactions are made CONFIDENTIAL, whatever the request says. */
  privacy: boolean
  tokens: LoginTokens
}

const errorMessage = (err: unknown): string => err instanceof Error ? err.message : String(err)

/** A 4xx JSON-RPC error as Fabric writes it (json.Encoder: trailing newline). */
function rpcErrorReply (status: number, kind: RpcErrorKind, data: string, id: RpcId | undefined): RestReply {
  return { status, body: rpcResponseJson(rpcFail(kind, data), id) + '\n' }
}

/** The checks Fabric runs before it submits; undefined when the spec may go on. */
async function checkSpec (spec: ChaincodeSpec, deploy: boolean, deps: ChaincodeRpcDeps): Promise<RpcResult | undefined> {
  if (spec.chaincodeID === undefined) return rpcFail('invalidParams', 'Payload must contain a ChaincodeID.')
  if (deploy && deps.devMode && spec.chaincodeID.name === '') return rpcFail('invalidParams', 'Chaincode name may not be blank in development mode.')
  if (deploy && !deps.devMode && spec.chaincodeID.path === '') return rpcFail('invalidParams', 'Chaincode path may not be blank.')
  if (!deploy && spec.chaincodeID.name === '') return rpcFail('invalidParams', 'Chaincode name may not be blank.')
  if (spec.ctorMsg === undefined || spec.ctorMsg.args.length === 0) return rpcFail('invalidParams', 'Payload must contain a CtorMsg with a Chaincode function name.')
  if (deps.securityEnabled) {
    if (spec.secureContext === '') return rpcFail('invalidParams', 'Must supply username for chaincode when security is enabled.')
    if (!(await deps.tokens.has(spec.secureContext))) return rpcFail('missingRegistration', "User not logged in. Use the '/registrar' endpoint to obtain a security token.")
    if (deps.privacy) spec.confidentialityLevel = ConfidentialityLevel.CONFIDENTIAL
  }
  return undefined
}

async function run (method: 'deploy' | 'invoke' | 'query', spec: ChaincodeSpec, deps: ChaincodeRpcDeps, waitMs: number | undefined): Promise<RpcResult> {
  const refused = await checkSpec(spec, method === 'deploy', deps)
  if (refused !== undefined) return refused
  if (method === 'deploy') {
    try {
      const cds = await deps.peer.deploy(spec, { waitMs })
      return rpcOK(cds.chaincodeSpec?.chaincodeID?.name ?? '')
    } catch (err) {
      return rpcFail('deploy', `Error when deploying chaincode: ${errorMessage(err)}`)
    }
  }
  const cis = create(ChaincodeInvocationSpecSchema, { chaincodeSpec: spec })
  try {
    const resp = method === 'invoke' ? await deps.peer.invoke(cis, { waitMs }) : await deps.peer.query(cis)
    return rpcOK(resp.msg)
  } catch (err) {
    return method === 'invoke'
      ? rpcFail('invoke', `Error when invoking chaincode: ${errorMessage(err)}`)
      : rpcFail('query', `Error when querying chaincode: ${errorMessage(err)}`)
  }
}

/**
 * POST /chaincode, JSON-RPC 2.0 as Fabric's ProcessChaincode: the same checks in the same
 * order, the same codes, HTTP statuses and texts. A request without an id is a notification:
 * it runs, and the answer is an empty 200. As in Fabric, an OK for deploy and invoke means the
 * transaction was accepted into the queue; with Weft's `"wait"` member it means it is in a block,
 * and a rejection is a Deployment/Invocation failure carrying the chaincode's error.
 */
export async function handleChaincodeRpc (body: string, deps: ChaincodeRpcDeps): Promise<RestReply> {
  if (body === '') return rpcErrorReply(400, 'invalidRequest', 'Client must supply a payload for chaincode requests.', undefined)
  const parsed = parseRpcRequest(body)
  if (!parsed.ok) return rpcErrorReply(400, 'parse', `Error unmarshalling chaincode request payload: ${parsed.error}`, undefined)
  const { jsonrpc, method, params, id, wait } = parsed.request
  const notification = id === undefined
  const refuse = (status: number, kind: RpcErrorKind, data: string): RestReply =>
    notification ? { status: 200, body: '' } : rpcErrorReply(status, kind, data, id)

  if (jsonrpc === undefined) return refuse(400, 'invalidRequest', 'Missing JSON RPC 2.0 version string.')
  if (jsonrpc !== '2.0') return refuse(400, 'invalidRequest', 'Invalid JSON RPC 2.0 version string. Must be 2.0.')
  if (method === undefined) return refuse(400, 'invalidRequest', 'Missing JSON RPC 2.0 method string.')
  if (method !== 'deploy' && method !== 'invoke' && method !== 'query') return refuse(404, 'methodNotFound', 'Requested method does not exist.')
  // Fabric names the deploy request in this message whatever the method.
  if (params === undefined) return refuse(400, 'invalidParams', 'Client must supply ChaincodeSpec for chaincode deploy request.')

  const result = await run(method, params, deps, wait)
  return notification ? { status: 200, body: '' } : { status: 200, body: rpcResponseJson(result, id) }
}
