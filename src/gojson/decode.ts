import { create, ScalarType, type DescField, type DescMessage, type Message } from '@bufbuild/protobuf'
import { goScalarTypeName, goStructName, goTypeName } from './go-names.ts'
import type { JsonNode } from './parse.ts'

/** An error whose text is what Go's json.Unmarshal would report. */
export class GoJsonDecodeError extends Error {
  override name = 'GoJsonDecodeError'
}

/**
 * Where json.Unmarshal is: the struct being filled and the JSON keys leading to the field.
 * Type mismatches are remembered (the first one wins) and decoding goes on, as in Go; an
 * error from a custom UnmarshalJSON stops decoding at once.
 */
export class DecodeContext {
  saved?: GoJsonDecodeError
  struct = ''
  readonly stack: string[] = []

  typeError (value: string, goType: string): GoJsonDecodeError {
    return new GoJsonDecodeError(this.stack.length > 0 || this.struct !== ''
      ? `json: cannot unmarshal ${value} into Go struct field ${this.struct}.${this.stack.join('.')} of type ${goType}`
      : `json: cannot unmarshal ${value} into Go value of type ${goType}`)
  }

  save (err: GoJsonDecodeError): void { this.saved ??= err }

  /** Runs `fn` for the field `key` of struct `struct`, restoring the context afterwards (not on abort, as Go). */
  inField<T> (struct: string, key: string, fn: () => T): T {
    const prevStruct = this.struct
    this.struct = struct
    this.stack.push(key)
    const out = fn()
    this.stack.pop()
    this.struct = prevStruct
    return out
  }
}

/** Finds the struct field for a JSON key: exact name first, then ASCII case-insensitive (Go's fold). */
export function matchKey<T extends { name: string }> (fields: readonly T[], key: string): T | undefined {
  for (const f of fields) if (f.name === key) return f
  const lower = key.toLowerCase()
  for (const f of fields) if (f.name.toLowerCase() === lower) return f
  return undefined
}

/** What decoding a message type needs of its descriptor, worked out once per type. */
interface StructInfo { fields: DescField[], structName: string }
const structs = new WeakMap<DescMessage, StructInfo>()

function structInfo (desc: DescMessage): StructInfo {
  let info = structs.get(desc)
  if (info === undefined) structs.set(desc, info = { fields: desc.fields.filter(f => f.oneof === undefined), structName: goStructName(desc) })
  return info
}

/** A custom UnmarshalJSON for one message type: gets the raw node, returns the message or undefined for null. */
export type CustomDecoder = (node: JsonNode, ctx: DecodeContext) => Message | undefined

const int32Range = [-(2n ** 31n), 2n ** 31n - 1n] as const
const uint32Range = [0n, 2n ** 32n - 1n] as const
export const int64Range = [-(2n ** 63n), 2n ** 63n - 1n] as const
const uint64Range = [0n, 2n ** 64n - 1n] as const
const goInteger = /^-?(0|[1-9]\d*)$/

/** strconv.ParseInt/ParseUint of a JSON number's text: integers only, within range. */
export function parseGoInteger (raw: string, range: readonly [bigint, bigint]): bigint | undefined {
  if (!goInteger.test(raw)) return undefined
  const n = BigInt(raw)
  return n < range[0] || n > range[1] ? undefined : n
}

/** base64.StdEncoding.DecodeString: padded, newlines ignored; errors name the byte offset as Go does. */
export function decodeGoBase64 (s: string): Uint8Array {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  const out: number[] = []
  let quad: number[] = []
  let i = 0
  const corrupt = (at: number): never => { throw new GoJsonDecodeError(`illegal base64 data at input byte ${at}`) }
  for (; i < s.length; i++) {
    const c = s[i]
    if (c === '\n' || c === '\r') continue
    if (c === '=') break
    const v = alphabet.indexOf(c)
    if (v < 0) corrupt(i)
    quad.push(v)
    if (quad.length === 4) {
      out.push((quad[0] << 2) | (quad[1] >> 4), ((quad[1] & 15) << 4) | (quad[2] >> 2), ((quad[2] & 3) << 6) | quad[3])
      quad = []
    }
  }
  if (i < s.length) {
    // Padding: allowed only after 2 or 3 symbols of a quantum, and must complete it.
    const need = 4 - quad.length
    if (quad.length < 2) corrupt(i)
    let pads = 0
    for (; i < s.length; i++) {
      if (s[i] === '\n' || s[i] === '\r') continue
      if (s[i] !== '=' || pads === need) corrupt(i)
      pads++
    }
    if (pads !== need) corrupt(s.length)
  } else if (quad.length !== 0) {
    corrupt(s.length)
  }
  if (quad.length >= 2) out.push((quad[0] << 2) | (quad[1] >> 4))
  if (quad.length === 3) out.push(((quad[1] & 15) << 4) | (quad[2] >> 2))
  return new Uint8Array(out)
}

/**
 * Fills a protobuf-es message from JSON the way json.Unmarshal fills the Go struct protoc-gen-go
 * made for it. `custom` supplies UnmarshalJSON methods by message type name.
 */
export function decodeMessage (desc: DescMessage, node: JsonNode, ctx: DecodeContext, custom: Readonly<Record<string, CustomDecoder>> = {}, into?: Message): Message | undefined {
  if (node.kind === 'null') return undefined
  const hook = custom[desc.typeName]
  if (hook !== undefined) return hook(node, ctx)
  if (node.kind !== 'object') { ctx.save(ctx.typeError(node.kind, goTypeName(desc))); return into }
  const msg = (into ?? create(desc)) as unknown as Record<string, unknown>
  const { fields, structName } = structInfo(desc)
  for (const [key, value] of node.entries) {
    const f = matchKey(fields, key)
    if (f === undefined) continue // encoding/json ignores unknown keys
    ctx.inField(structName, f.name, () => { msg[f.localName] = decodeField(f, value, msg[f.localName], ctx, custom) })
  }
  return msg as unknown as Message
}

function decodeField (f: DescField, node: JsonNode, current: unknown, ctx: DecodeContext, custom: Readonly<Record<string, CustomDecoder>>): unknown {
  switch (f.fieldKind) {
    case 'scalar': return decodeScalar(f.scalar, node, current, ctx)
    case 'enum': return decodeInt(node, current, int32Range, () => goTypeName(f.enum), ctx, false)
    case 'message': return decodeMessage(f.message, node, ctx, custom, current as Message | undefined)
    case 'list': {
      if (node.kind === 'null') return []
      const elemType = f.listKind === 'message' ? `*${goTypeName(f.message)}` : f.listKind === 'enum' ? goTypeName(f.enum) : goScalarTypeName(f.scalar)
      if (node.kind !== 'array') { ctx.save(ctx.typeError(node.kind, `[]${elemType}`)); return current }
      return node.items.map(item => {
        if (f.listKind === 'message') return decodeMessage(f.message, item, ctx, custom) ?? create(f.message)
        if (f.listKind === 'enum') return decodeInt(item, 0, int32Range, () => goTypeName(f.enum), ctx, false)
        return decodeScalar(f.scalar, item, zeroOf(f.scalar), ctx)
      })
    }
    case 'map':
      throw new GoJsonDecodeError(`decoding map field ${f.name} from JSON is not supported`)
  }
}

function zeroOf (t: ScalarType): unknown {
  switch (t) {
    case ScalarType.STRING: return ''
    case ScalarType.BYTES: return new Uint8Array(0)
    case ScalarType.BOOL: return false
    case ScalarType.INT64: case ScalarType.SINT64: case ScalarType.SFIXED64:
    case ScalarType.UINT64: case ScalarType.FIXED64: return 0n
    default: return 0
  }
}

function decodeScalar (t: ScalarType, node: JsonNode, current: unknown, ctx: DecodeContext): unknown {
  const goType = goScalarTypeName(t)
  switch (t) {
    case ScalarType.STRING:
      if (node.kind === 'string') return node.value
      if (node.kind !== 'null') ctx.save(ctx.typeError(node.kind, goType))
      return current
    case ScalarType.BYTES:
      if (node.kind === 'null') return new Uint8Array(0)
      if (node.kind !== 'string') { ctx.save(ctx.typeError(node.kind, goType)); return current }
      try { return decodeGoBase64(node.value) } catch (err) { ctx.save(err as GoJsonDecodeError); return current }
    case ScalarType.BOOL:
      if (node.kind === 'bool') return node.value
      if (node.kind !== 'null') ctx.save(ctx.typeError(node.kind, goType))
      return current
    case ScalarType.INT32: case ScalarType.SINT32: case ScalarType.SFIXED32:
      return decodeInt(node, current, int32Range, goType, ctx, false)
    case ScalarType.UINT32: case ScalarType.FIXED32:
      return decodeInt(node, current, uint32Range, goType, ctx, false)
    case ScalarType.INT64: case ScalarType.SINT64: case ScalarType.SFIXED64:
      return decodeInt(node, current, int64Range, goType, ctx, true)
    case ScalarType.UINT64: case ScalarType.FIXED64:
      return decodeInt(node, current, uint64Range, goType, ctx, true)
    default:
      if (node.kind === 'number') return Number(node.raw)
      if (node.kind !== 'null') ctx.save(ctx.typeError(node.kind, goType))
      return current
  }
}

/** `goType` names the Go type in an error (a function where working the name out costs). */
function decodeInt (node: JsonNode, current: unknown, range: readonly [bigint, bigint], goType: string | (() => string), ctx: DecodeContext, big: boolean): unknown {
  if (node.kind === 'null') return current
  const typeName = (): string => typeof goType === 'string' ? goType : goType()
  if (node.kind !== 'number') { ctx.save(ctx.typeError(node.kind, typeName())); return current }
  const n = parseGoInteger(node.raw, range)
  if (n === undefined) { ctx.save(ctx.typeError(`number ${node.raw}`, typeName())); return current }
  return big ? n : Number(n)
}
