// Checker for the "messages" conformance vectors (vectors/messages.json):
// protobuf encodings produced by Fabric 0.6.1's Go peer (golang/protobuf,
// proto3). Each case must decode with our schema and re-encode to the very
// same bytes, without leaning on unknown fields, and its decoded fields must
// match the case's readable `json` rendering.
import { fromBinary, toBinary, type DescField, type DescMessage, type Message, type UnknownField } from '@bufbuild/protobuf'
import { equalBytes, fromHex, toHex } from '../crypto/bytes.ts'
import { messageSchema } from '../protos/registry.ts'
import { caseName, isObject, type CaseResult, type Obj } from './result.ts'

export interface MessageCaseResult extends CaseResult {
  /**
   * Fields the decoder did not recognise (path, field number, wire type).
   * Any entry means our .proto lacks a field that Fabric sends; such a case
   * is reported as not ok even though protobuf-es would re-emit the bytes.
   */
  unknownFields?: string[]
}

/** Checks one case of the "messages" vector kind. Never throws. */
export function checkMessageCase (c: unknown): MessageCaseResult {
  const name = caseName(c)
  try {
    if (!isObject(c)) return { name, ok: false, detail: 'case is not an object' }
    const unknownFields: string[] = []
    const outer = checkEncoding(c, 'message', unknownFields)
    if (typeof outer === 'string') return result(name, outer, unknownFields)

    if (c.payload !== undefined && c.payload !== null) {
      if (!isObject(c.payload)) return { name, ok: false, detail: 'payload is not an object' }
      const inner = checkEncoding(c.payload, 'payload', unknownFields)
      if (typeof inner === 'string') return result(name, inner, unknownFields)
      const payloadField = outer.desc.fields.find(f => f.name === 'payload' && f.fieldKind === 'scalar')
      if (payloadField === undefined) return { name, ok: false, detail: `${outer.desc.typeName} has no bytes field "payload"` }
      const carried = (outer.msg as unknown as Obj)[payloadField.localName]
      if (!(carried instanceof Uint8Array)) return { name, ok: false, detail: `${outer.desc.typeName}.payload is not bytes` }
      if (!equalBytes(carried, inner.bytes)) {
        return { name, ok: false, detail: `outer payload field differs from payload.proto_hex: ${describeDiff(inner.bytes, carried)}` }
      }
    }
    return result(name, undefined, unknownFields)
  } catch (err) {
    return { name, ok: false, detail: `checker error: ${err instanceof Error ? err.message : String(err)}` }
  }
}

function result (name: string, failure: string | undefined, unknownFields: string[]): MessageCaseResult {
  const r: MessageCaseResult = { name, ok: failure === undefined && unknownFields.length === 0 }
  if (unknownFields.length > 0) r.unknownFields = unknownFields
  if (failure !== undefined) r.detail = failure
  else if (unknownFields.length > 0) r.detail = `round-trips only through unknown fields (missing from our .proto): ${unknownFields.join('; ')}`
  return r
}

interface Decoded { desc: DescMessage, msg: Message, bytes: Uint8Array }

/** Decodes `{type, proto_hex, json?}`, re-encodes, compares. Returns a failure string or the decoded message. */
function checkEncoding (o: Obj, what: string, unknownFields: string[]): Decoded | string {
  if (typeof o.type !== 'string' || o.type === '') return `${what}: missing type`
  if (typeof o.proto_hex !== 'string') return `${what}: missing proto_hex`
  let desc: DescMessage
  try { desc = messageSchema(o.type) } catch (err) { return `${what}: ${(err as Error).message}` }
  let bytes: Uint8Array
  try { bytes = fromHex(o.proto_hex) } catch (err) { return `${what}: bad proto_hex: ${(err as Error).message}` }
  let msg: Message
  try { msg = fromBinary(desc, bytes) } catch (err) { return `${what}: ${desc.typeName} does not decode: ${(err as Error).message}` }
  let again: Uint8Array
  try { again = toBinary(desc, msg) } catch (err) { return `${what}: ${desc.typeName} does not re-encode: ${(err as Error).message}` }
  if (!equalBytes(again, bytes)) return `${what}: ${desc.typeName} re-encodes differently: ${describeDiff(bytes, again)}`
  collectUnknown(desc, msg, desc.typeName, unknownFields)
  if (o.json !== undefined) {
    const mismatch = compareJson(o.json, render(desc, msg), what)
    if (mismatch !== undefined) return `${what}: decoded fields differ from json: ${mismatch}`
  }
  return { desc, msg, bytes }
}

function describeDiff (expected: Uint8Array, actual: Uint8Array): string {
  let i = 0
  while (i < expected.length && i < actual.length && expected[i] === actual[i]) i++
  const ctx = (b: Uint8Array): string => toHex(b.subarray(i, i + 16)) || '<end>'
  return `expected ${expected.length} bytes, got ${actual.length}; first difference at byte ${i}: expected ${ctx(expected)}, got ${ctx(actual)}`
}

const WIRE_TYPES = ['varint', 'i64', 'len', 'sgroup', 'egroup', 'i32']

function collectUnknown (desc: DescMessage, msg: Message, path: string, out: string[]): void {
  const unknown = (msg as { $unknown?: UnknownField[] }).$unknown
  for (const u of unknown ?? []) out.push(`${path}: field ${u.no} (${WIRE_TYPES[u.wireType] ?? u.wireType})`)
  const m = msg as unknown as Obj
  for (const f of desc.fields) {
    const v = fieldValue(f, m)
    if (v === undefined) continue
    const at = `${path}.${f.name}`
    if (f.fieldKind === 'message') collectUnknown(f.message, v as Message, at, out)
    else if (f.fieldKind === 'list' && f.listKind === 'message') (v as Message[]).forEach((e, i) => collectUnknown(f.message, e, `${at}[${i}]`, out))
    else if (f.fieldKind === 'map' && f.mapKind === 'message') for (const [k, e] of Object.entries(v as Obj)) collectUnknown(f.message, e as Message, `${at}[${k}]`, out)
  }
}

/** The value of a field, looking through oneofs; undefined when the oneof selects another member. */
function fieldValue (f: DescField, m: Obj): unknown {
  if (f.oneof !== undefined) {
    const sel = m[f.oneof.localName] as { case?: string, value?: unknown } | undefined
    return sel?.case === f.localName ? sel.value : undefined
  }
  return m[f.localName]
}

/**
 * Renders a message the way the vectors' `json` does: proto field names, only
 * fields that are set, bytes as lowercase hex, enums by name, 64-bit integers
 * as numbers, oneof members under their own name.
 */
function render (desc: DescMessage, msg: Message): Obj {
  const out: Obj = {}
  const m = msg as unknown as Obj
  for (const f of desc.fields) {
    const v = fieldValue(f, m)
    if (v === undefined) continue
    switch (f.fieldKind) {
      case 'message': out[f.name] = render(f.message, v as Message); break
      case 'list': {
        const list = v as unknown[]
        if (list.length === 0) break
        out[f.name] = list.map(e => f.listKind === 'message' ? render(f.message, e as Message) : f.listKind === 'enum' ? enumName(f, e as number) : scalar(e))
        break
      }
      case 'map': {
        const entries = Object.entries(v as Obj)
        if (entries.length === 0) break
        out[f.name] = Object.fromEntries(entries.map(([k, e]) => [k, f.mapKind === 'message' ? render(f.message, e as Message) : f.mapKind === 'enum' ? enumName(f, e as number) : scalar(e)]))
        break
      }
      case 'enum':
        if (f.oneof !== undefined || v !== 0) out[f.name] = enumName(f, v as number)
        break
      case 'scalar':
        if (f.oneof !== undefined || !isZero(v)) out[f.name] = scalar(v)
        break
    }
  }
  return out
}

function enumName (f: DescField, n: number): string | number {
  const e = f.fieldKind === 'enum' || (f.fieldKind === 'list' && f.listKind === 'enum') || (f.fieldKind === 'map' && f.mapKind === 'enum') ? f.enum : undefined
  return e?.values.find(x => x.number === n)?.name ?? n
}

function scalar (v: unknown): unknown {
  if (v instanceof Uint8Array) return toHex(v)
  if (typeof v === 'bigint') return Number(v)
  return v
}

function isZero (v: unknown): boolean {
  if (v instanceof Uint8Array) return v.length === 0
  return v === 0 || v === 0n || v === '' || v === false
}

/** Returns a description of the first difference, or undefined when equal. */
function compareJson (expected: unknown, actual: unknown, path: string): string | undefined {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected a list, got ${short(actual)}`
    if (expected.length !== actual.length) return `${path}: expected ${expected.length} elements, got ${actual.length}`
    for (let i = 0; i < expected.length; i++) {
      const d = compareJson(expected[i], actual[i], `${path}[${i}]`)
      if (d !== undefined) return d
    }
    return undefined
  }
  if (isObject(expected)) {
    if (!isObject(actual)) return `${path}: expected an object, got ${short(actual)}`
    for (const k of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
      if (!(k in expected)) return `${path}.${k}: unexpected field ${short(actual[k])}`
      if (!(k in actual)) return `${path}.${k}: missing (expected ${short(expected[k])})`
      const d = compareJson(expected[k], actual[k], `${path}.${k}`)
      if (d !== undefined) return d
    }
    return undefined
  }
  // JSON numbers above 2^53 were already rounded by JSON.parse; Number(bigint) rounds the same way.
  return Object.is(expected, actual) ? undefined : `${path}: expected ${short(expected)}, got ${short(actual)}`
}

function short (v: unknown): string {
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}
