import { create } from '@bufbuild/protobuf'
import { utf8 } from '../crypto/bytes.ts'
import { ChaincodeIDSchema, ChaincodeInputSchema, ChaincodeSpecSchema, type ChaincodeSpec } from '../protos/chaincode_pb.ts'
import type { RpcRequest } from './rpc-request.ts'

/**
 * The /chaincode request nearly every client sends, read in one pass without a JSON tree: members
 * spelled exactly (jsonrpc, method, id, params with type, chaincodeID {name, path}, ctorMsg
 * {function, args} and secureContext), each once, strings without escapes, integers in plain
 * digits. Returns undefined for anything else (other spellings or members, null, escapes, a
 * syntax error), and the general reader, which follows Go's rules everywhere, takes the body;
 * what this returns is what that reader gives for the same body.
 */
export function parsePlainRpcRequest (body: string): RpcRequest | undefined {
  return new PlainReader(body).request()
}

/** Thrown to give the body to the general reader. */
const notPlain = new Error('not a plain request')

class PlainReader {
  private pos = 0
  constructor (private readonly text: string) {}

  request (): RpcRequest | undefined {
    try {
      const request: RpcRequest = {}
      this.object(key => {
        switch (key) {
          case 'jsonrpc': request.jsonrpc = this.once(request.jsonrpc, this.string()); break
          case 'method': request.method = this.once(request.method, this.string()); break
          case 'id': request.id = this.once(request.id, this.text.charCodeAt(this.pos) === 0x22 ? { string: this.string() } : { int: BigInt(this.integer(18, true)) }); break
          case 'params': request.params = this.once(request.params, this.spec()); break
          default: throw notPlain
        }
      })
      this.space()
      return this.pos === this.text.length ? request : undefined
    } catch (err) {
      if (err === notPlain) return undefined
      throw err
    }
  }

  private spec (): ChaincodeSpec {
    const spec = create(ChaincodeSpecSchema)
    const seen = new Set<string>()
    this.object(key => {
      if (seen.has(key)) throw notPlain
      seen.add(key)
      switch (key) {
        case 'type': spec.type = Number(this.integer(9, false)); break
        case 'secureContext': spec.secureContext = this.string(); break
        case 'chaincodeID': {
          const id = spec.chaincodeID = create(ChaincodeIDSchema)
          const seenID = new Set<string>()
          this.object(k => {
            if (seenID.has(k) || (k !== 'name' && k !== 'path')) throw notPlain
            seenID.add(k)
            id[k] = this.string()
          })
          break
        }
        case 'ctorMsg': {
          let fn: string | undefined
          let args: string[] | undefined
          this.object(k => {
            if (k === 'function') fn = this.once(fn, this.string())
            else if (k === 'args') args = this.once(args, this.strings())
            else throw notPlain
          })
          // As ChaincodeInput's UnmarshalJSON: a function name goes first.
          const all = fn !== undefined && fn !== '' ? [fn, ...args ?? []] : args ?? []
          spec.ctorMsg = create(ChaincodeInputSchema, { args: all.map(utf8) })
          break
        }
        default: throw notPlain
      }
    })
    return spec
  }

  /** Each member once: a repeated one is the general reader's (Go merges or overwrites). */
  private once<T> (previous: unknown, value: T): T {
    if (previous !== undefined) throw notPlain
    return value
  }

  /** `{ "key": value, ... }`, `member` reading each value; an empty object too. */
  private object (member: (key: string) => void): void {
    this.space()
    this.expect(0x7b) // {
    this.space()
    if (this.text.charCodeAt(this.pos) === 0x7d) { this.pos++; return }
    for (;;) {
      this.space()
      const key = this.string()
      this.space()
      this.expect(0x3a) // :
      this.space()
      member(key)
      this.space()
      const c = this.text.charCodeAt(this.pos++)
      if (c === 0x7d) return
      if (c !== 0x2c) throw notPlain
    }
  }

  private strings (): string[] {
    const out: string[] = []
    this.expect(0x5b) // [
    this.space()
    if (this.text.charCodeAt(this.pos) === 0x5d) { this.pos++; return out }
    for (;;) {
      this.space()
      out.push(this.string())
      this.space()
      const c = this.text.charCodeAt(this.pos++)
      if (c === 0x5d) return out
      if (c !== 0x2c) throw notPlain
    }
  }

  /** A string without escapes or control characters. */
  private string (): string {
    this.expect(0x22)
    const start = this.pos
    for (;;) {
      const c = this.text.charCodeAt(this.pos)
      if (c === 0x22) return this.text.slice(start, this.pos++)
      // A backslash, a control character, or the end (NaN).
      if (!(c >= 0x20) || c === 0x5c) throw notPlain
      this.pos++
    }
  }

  /** An integer of at most `digits` digits, as JSON writes it (no leading zeros); `signed`: a minus sign too. */
  private integer (digits: number, signed: boolean): string {
    const start = this.pos
    if (signed && this.text.charCodeAt(this.pos) === 0x2d) this.pos++
    const first = this.pos
    while (this.pos - first <= digits) {
      const c = this.text.charCodeAt(this.pos)
      if (!(c >= 0x30 && c <= 0x39)) break
      this.pos++
    }
    const n = this.pos - first
    if (n === 0 || n > digits || (n > 1 && this.text.charCodeAt(first) === 0x30)) throw notPlain
    // A fraction or exponent makes it no plain integer.
    const next = this.text.charCodeAt(this.pos)
    if (next === 0x2e || next === 0x65 || next === 0x45) throw notPlain
    return this.text.slice(start, this.pos)
  }

  private expect (c: number): void {
    if (this.text.charCodeAt(this.pos) !== c) throw notPlain
    this.pos++
  }

  private space (): void {
    for (;;) {
      const c = this.text.charCodeAt(this.pos)
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return
      this.pos++
    }
  }
}
