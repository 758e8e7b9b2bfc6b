import { create } from '@bufbuild/protobuf'
import { utf8 } from '../crypto/bytes.ts'
import { ChaincodeInputSchema, ChaincodeSpecSchema, type ChaincodeInput, type ChaincodeSpec } from '../protos/chaincode_pb.ts'
import { DecodeContext, decodeMessage, GoJsonDecodeError, int64Range, matchKey, parseGoInteger, type CustomDecoder } from './decode.ts'
import { parseGoDuration } from '../config/duration.ts'
import { goQuote } from './encode.ts'
import { GoJsonSyntaxError, parseGoJson, type JsonNode } from './parse.ts'
import { parsePlainRpcRequest } from './plain-rpc-request.ts'

/** A JSON-RPC id as Fabric's rpcID holds it: a string or an int64, written back verbatim. */
export type RpcId = { string: string } | { int: bigint }

export function rpcIdJson (id: RpcId | undefined): string {
  if (id === undefined) return 'null'
  return 'string' in id ? goQuote(id.string) : id.int.toString()
}

/** The /chaincode request as Fabric's rpcRequest struct holds it: every member optional. */
export interface RpcRequest {
  jsonrpc?: string
  method?: string
  params?: ChaincodeSpec
  id?: RpcId
  /**
   * Weft's own member (Fabric ignores unknown ones): answer only once the transaction is in a
   * block or rejected, waiting at most this many ms. `true` is 30 s; a number is milliseconds;
   * a string is a Go duration ("10s").
   */
  wait?: number
}

/** How long `"wait": true` waits. */
export const DEFAULT_WAIT_MS = 30_000

export type RpcParse = { ok: true, request: RpcRequest } | { ok: false, error: string }

const inputFields = [{ name: 'Function' }, { name: 'Args' }] as const
const requestFields = [{ name: 'jsonrpc' }, { name: 'method' }, { name: 'params' }, { name: 'id' }, { name: 'wait' }] as const

/**
 * ChaincodeInput's UnmarshalJSON: `{"args":[...]}` or `{"function":f,"args":[...]}` (→ [f, ...args]),
 * strings turned into bytes. Its inner json.Unmarshal errors surface with the outer field's context.
 */
const chaincodeInput: CustomDecoder = (node, ctx) => {
  if (node.kind === 'null') return undefined
  if (node.kind !== 'object') throw ctx.typeError(node.kind, 'protos.strArgs')
  let fn = ''
  let args: string[] = []
  let inner: GoJsonDecodeError | undefined
  for (const [key, v] of node.entries) {
    const f = matchKey(inputFields, key)
    if (f === undefined) continue
    if (f.name === 'Function') {
      if (v.kind === 'string') fn = v.value
      else if (v.kind !== 'null') inner ??= ctx.typeError(v.kind, 'string')
    } else if (v.kind === 'null') {
      args = []
    } else if (v.kind !== 'array') {
      inner ??= ctx.typeError(v.kind, '[]string')
    } else {
      args = v.items.map(item => {
        if (item.kind === 'string') return item.value
        if (item.kind !== 'null') inner ??= ctx.typeError(item.kind, 'string')
        return ''
      })
    }
  }
  if (inner !== undefined) throw inner
  const all = fn !== '' ? [fn, ...args] : args
  return create(ChaincodeInputSchema, { args: all.map(utf8) })
}

const customDecoders = { [ChaincodeInputSchema.typeName]: chaincodeInput }

/** json.Unmarshal into a ChaincodeInput (the CLI's -c): throws GoJsonSyntaxError / GoJsonDecodeError with Go's text. */
export function parseChaincodeInput (text: string): ChaincodeInput {
  return (chaincodeInput(parseGoJson(text), new DecodeContext()) as ChaincodeInput | undefined) ?? create(ChaincodeInputSchema)
}

/** rpcID's UnmarshalJSON: a string, else an int64, else its own error naming the raw text. */
function decodeId (node: JsonNode, text: string): RpcId {
  if (node.kind === 'string') return { string: node.value }
  if (node.kind === 'number') {
    const n = parseGoInteger(node.raw, int64Range)
    if (n !== undefined) return { int: n }
  }
  throw new GoJsonDecodeError(`cannot unmarshal ${text.slice(node.start, node.end)} into Go value of type int64 or string`)
}

function decodeOptionalString (node: JsonNode, ctx: DecodeContext): string | undefined {
  if (node.kind === 'string') return node.value
  if (node.kind !== 'null') ctx.save(ctx.typeError(node.kind, 'string'))
  return undefined
}

function decodeWait (node: JsonNode): number | undefined {
  const bad = (): never => { throw new GoJsonDecodeError('wait must be true, a number of milliseconds or a duration such as "10s"') }
  let ms: number | undefined
  if (node.kind === 'null' || (node.kind === 'bool' && !node.value)) return undefined
  if (node.kind === 'bool') ms = DEFAULT_WAIT_MS
  else if (node.kind === 'number') ms = Number(node.raw)
  else if (node.kind === 'string') {
    try { ms = parseGoDuration(node.value) } catch { bad() }
  }
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) bad()
  return ms
}

/**
 * Reads a POST /chaincode body as Fabric's json.Unmarshal into rpcRequest does: Go's syntax
 * rules, case-insensitive member names, null meaning absent, and Go's error text on failure.
 */
export function parseRpcRequest (body: string): RpcParse {
  const plain = parsePlainRpcRequest(body)
  if (plain !== undefined) return { ok: true, request: plain }
  let root: JsonNode
  try {
    root = parseGoJson(body)
  } catch (err) {
    if (err instanceof GoJsonSyntaxError) return { ok: false, error: err.message }
    throw err
  }
  const ctx = new DecodeContext()
  const request: RpcRequest = {}
  if (root.kind === 'null') return { ok: true, request }
  if (root.kind !== 'object') return { ok: false, error: ctx.typeError(root.kind, 'rest.rpcRequest').message }
  try {
    for (const [key, value] of root.entries) {
      const f = matchKey(requestFields, key)
      if (f === undefined) continue
      ctx.inField('rpcRequest', f.name, () => {
        switch (f.name) {
          case 'jsonrpc': request.jsonrpc = value.kind === 'null' ? undefined : decodeOptionalString(value, ctx) ?? request.jsonrpc; break
          case 'method': request.method = value.kind === 'null' ? undefined : decodeOptionalString(value, ctx) ?? request.method; break
          case 'id': request.id = value.kind === 'null' ? undefined : decodeId(value, body); break
          case 'wait': request.wait = decodeWait(value); break
          case 'params':
            request.params = decodeMessage(ChaincodeSpecSchema, value, ctx, customDecoders, request.params) as ChaincodeSpec | undefined
            break
        }
      })
    }
  } catch (err) {
    if (err instanceof GoJsonDecodeError) return { ok: false, error: err.message }
    throw err
  }
  if (ctx.saved !== undefined) return { ok: false, error: ctx.saved.message }
  return { ok: true, request }
}
