import type { DescField, DescMessage, DescOneof, Message } from '@bufbuild/protobuf'
import { ScalarType } from '@bufbuild/protobuf'
import { toBase64 } from '../crypto/bytes.ts'
import { goCamelCase } from './go-names.ts'

/**
 * Go's encoding/json over the structs golang/protobuf generated for Fabric 0.6.1: fields in
 * declaration order under their proto names (every json tag equals the proto name), every
 * field `omitempty` (zero scalars, empty bytes/lists/maps and absent messages left out), bytes
 * as standard base64, enums and 64-bit integers as plain numbers, and a oneof as
 * `"GoOneofName": {"GoMemberName": value}` (no json tags, no omitempty: null when unset).
 */
export function goJson (desc: DescMessage, msg: Message): string {
  return encodeMessage(desc, msg)
}

/** encoding/json's string quoting with its default HTML escaping (Go ≤ 1.21 spells \b and \f as \u00XX). */
export function goQuote (s: string): string {
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x22) out += '\\"'
    else if (c === 0x5c) out += '\\\\'
    else if (c === 0x0a) out += '\\n'
    else if (c === 0x0d) out += '\\r'
    else if (c === 0x09) out += '\\t'
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) out += '\\u' + c.toString(16).padStart(4, '0')
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) { out += s[i] + s[i + 1]; i++ }
    else if (c >= 0xd800 && c <= 0xdfff) out += '\ufffd' // a lone surrogate cannot be UTF-8; Go would see U+FFFD
    else out += s[i]
  }
  return out + '"'
}

/** Length of the valid UTF-8 sequence at `i` as Go's utf8.DecodeRune accepts it, or 0 when invalid. */
function utf8SequenceLength (b: Uint8Array, i: number): number {
  const c = b[i]
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < b.length && b[i + k] >= lo && b[i + k] <= hi
  if (c < 0x80) return 1
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0
  if (c >= 0xe0 && c <= 0xef) {
    const lo = c === 0xe0 ? 0xa0 : 0x80
    const hi = c === 0xed ? 0x9f : 0xbf
    return cont(1, lo, hi) && cont(2) ? 3 : 0
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo = c === 0xf0 ? 0x90 : 0x80
    const hi = c === 0xf4 ? 0x8f : 0xbf
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0
  }
  return 0
}

const utf8Text = new TextDecoder()

/**
 * encoding/json's quoting of a Go string holding arbitrary bytes (string(resp.Msg)):
 * each byte that does not start valid UTF-8 becomes the escape \ufffd.
 */
export function goQuoteBytes (b: Uint8Array): string {
  if (printableAscii(b)) return `"${utf8Text.decode(b)}"`
  let out = '"'
  let start = 0
  const flush = (end: number): void => { if (end > start) out += goQuote(utf8Text.decode(b.subarray(start, end))).slice(1, -1) }
  for (let i = 0; i < b.length;) {
    const n = utf8SequenceLength(b, i)
    if (n > 0) { i += n; continue }
    flush(i)
    out += '\\ufffd'
    start = ++i
  }
  flush(b.length)
  return out + '"'
}

/** Bytes encoding/json writes as they are: printable ASCII but for " \ < > & (most answers: numbers, txids). */
function printableAscii (b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x26) return false
  }
  return true
}

type Obj = Record<string, unknown>

function encodeMessage (desc: DescMessage, msg: Message): string {
  const m = msg as unknown as Obj
  const parts: string[] = []
  for (const member of desc.members) {
    if (member.kind === 'oneof') {
      parts.push(`${goQuote(goCamelCase(member.name))}:${encodeOneof(member, m[member.localName] as { case?: string, value?: unknown })}`)
      continue
    }
    const text = encodeField(member, m[member.localName])
    if (text !== undefined) parts.push(`${goQuote(member.name)}:${text}`)
  }
  return `{${parts.join(',')}}`
}

function encodeOneof (oneof: DescOneof, sel: { case?: string, value?: unknown } | undefined): string {
  const field = oneof.fields.find(f => f.localName === sel?.case)
  if (field === undefined) return 'null'
  // The wrapper struct's single field has no omitempty: even a zero value is written.
  return `{${goQuote(goCamelCase(field.name))}:${encodeSingle(field, sel!.value, false) ?? 'null'}}`
}

/** A field's JSON, or undefined when omitempty leaves it out. */
function encodeField (f: DescField, v: unknown): string | undefined {
  switch (f.fieldKind) {
    case 'list': {
      const list = v as unknown[]
      if (list.length === 0) return undefined
      return `[${list.map(e => encodeElement(f, e)).join(',')}]`
    }
    case 'map': {
      const entries = Object.entries(v as Obj)
      if (entries.length === 0) return undefined
      // encoding/json sorts map keys by their string form.
      entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      return `{${entries.map(([k, e]) => `${goQuote(k)}:${encodeMapValue(f, e)}`).join(',')}}`
    }
    default:
      return encodeSingle(f, v, true)
  }
}

function encodeSingle (f: DescField, v: unknown, omitEmpty: boolean): string | undefined {
  switch (f.fieldKind) {
    case 'message': return v === undefined ? (omitEmpty ? undefined : 'null') : encodeMessage(f.message, v as Message)
    case 'enum': return omitEmpty && v === 0 ? undefined : String(v)
    case 'scalar': return encodeScalar(f.scalar, v, omitEmpty)
    default: throw new Error(`unexpected field kind ${f.fieldKind} for ${f.name}`)
  }
}

function encodeElement (f: DescField & { fieldKind: 'list' }, e: unknown): string {
  if (f.listKind === 'message') return encodeMessage(f.message, e as Message)
  if (f.listKind === 'enum') return String(e)
  return encodeScalar(f.scalar, e, false)!
}

function encodeMapValue (f: DescField & { fieldKind: 'map' }, e: unknown): string {
  if (f.mapKind === 'message') return encodeMessage(f.message, e as Message)
  if (f.mapKind === 'enum') return String(e)
  return encodeScalar(f.scalar, e, false)!
}

function encodeScalar (t: ScalarType, v: unknown, omitEmpty: boolean): string | undefined {
  switch (t) {
    case ScalarType.STRING: return omitEmpty && v === '' ? undefined : goQuote(v as string)
    case ScalarType.BYTES: {
      const b = v as Uint8Array
      return omitEmpty && b.length === 0 ? undefined : `"${toBase64(b)}"`
    }
    case ScalarType.BOOL: return omitEmpty && v === false ? undefined : String(v)
    default: {
      if (omitEmpty && (v === 0 || v === 0n)) return undefined
      if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`json: unsupported value: ${v}`)
      return String(v)
    }
  }
}
