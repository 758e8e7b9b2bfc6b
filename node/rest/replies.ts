import { goQuote, goQuoteBytes } from '../../src/gojson/encode.ts'
import { rpcIdJson, type RpcId } from '../../src/gojson/rpc-request.ts'

/** What a REST handler answers: HTTP status, the exact body bytes (text) and any headers of Weft's own. */
export interface RestReply { status: number, body: string, headers?: Record<string, string> }

/** Fabric's restResult {OK, Error} as json.Encoder writes it (trailing newline). */
export function restError (status: number, message: string): RestReply {
  return { status, body: `{"Error":${goQuote(message)}}\n` }
}

export function restOK (message: string): RestReply {
  return { status: 200, body: `{"OK":${goQuote(message)}}\n` }
}

/** The JSON-RPC 2.0 errors Fabric defines (code, message). */
export const rpcErrors = {
  parse: [-32700, 'Parse error'],
  invalidRequest: [-32600, 'Invalid request'],
  methodNotFound: [-32601, 'Method not found'],
  invalidParams: [-32602, 'Invalid params'],
  internal: [-32603, 'Internal error'],
  missingRegistration: [-32000, 'Registration missing'],
  deploy: [-32001, 'Deployment failure'],
  invoke: [-32002, 'Invocation failure'],
  query: [-32003, 'Query failure']
} as const

export type RpcErrorKind = keyof typeof rpcErrors

/** rpcResult: either {status: "OK", message} (a peer's Response.msg is bytes) or an error {code, message, data}. */
export type RpcResult = { ok: true, message: string | Uint8Array } | { ok: false, kind: RpcErrorKind, data: string }

export const rpcOK = (message: string | Uint8Array): RpcResult => ({ ok: true, message })
export const rpcFail = (kind: RpcErrorKind, data: string): RpcResult => ({ ok: false, kind, data })

/** rpcResponse marshaled by encoding/json: members omitted when empty, except id (null when absent). */
export function rpcResponseJson (result: RpcResult, id: RpcId | undefined): string {
  let inner: string
  if (result.ok) {
    const m = result.message
    const quoted = typeof m === 'string' ? goQuote(m) : goQuoteBytes(m)
    inner = `"result":{"status":"OK"${m.length === 0 ? '' : `,"message":${quoted}`}}`
  } else {
    const [code, message] = rpcErrors[result.kind]
    inner = `"error":{"code":${code},"message":${goQuote(message)}${result.data === '' ? '' : `,"data":${goQuote(result.data)}`}}`
  }
  return `{"jsonrpc":"2.0",${inner},"id":${rpcIdJson(id)}}`
}
