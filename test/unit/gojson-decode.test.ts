import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fromUtf8 } from '../../src/crypto/bytes.ts'
import { decodeGoBase64 } from '../../src/gojson/decode.ts'
import { parseGoJson, parseRpcRequest, rpcIdJson } from '../../src/gojson/index.ts'
import { ChaincodeSpec_Type, ConfidentialityLevel } from '../../src/protos/chaincode_pb.ts'

const legacy = JSON.parse(readFileSync(new URL('../vectors/legacy-chain.json', import.meta.url), 'utf8'))

function ok (body: string) {
  const r = parseRpcRequest(body)
  if (!r.ok) throw new Error(`unexpected error: ${r.error}`)
  return r.request
}
function err (body: string): string {
  const r = parseRpcRequest(body)
  if (r.ok) throw new Error('expected an error')
  return r.error
}
const args = (spec: { ctorMsg?: { args: Uint8Array[] } }) => spec.ctorMsg?.args.map(fromUtf8)

describe('parseRpcRequest', () => {
  it('reads every request body of the legacy workload', () => {
    const bodies = [...legacy.workload.flatMap((g: any) => g.requests), ...legacy.queries_after_workload].map((r: any) => r.request_body)
    expect(bodies.length).toBeGreaterThan(20)
    for (const body of bodies) {
      const raw = JSON.parse(body)
      const req = ok(body)
      expect(req.jsonrpc).toBe('2.0')
      expect(req.method).toBe(raw.method)
      expect(req.id).toEqual({ int: BigInt(raw.id) })
      expect(req.params?.type).toBe(ChaincodeSpec_Type.GOLANG)
      expect(req.params?.chaincodeID?.name).toBe(raw.params.chaincodeID.name)
      expect(args(req.params!)).toEqual(raw.params.ctorMsg.args)
    }
  })

  it('accepts {"function":f,"args":[...]} and matches member names case-insensitively', () => {
    const req = ok('{"JSONRPC":"2.0","Method":"invoke","PARAMS":{"ChaincodeID":{"Name":"mycc"},"ctormsg":{"Function":"invoke","ARGS":["a","b","1"]}},"Id":"x"}')
    expect(req.method).toBe('invoke')
    expect(req.params?.chaincodeID?.name).toBe('mycc')
    expect(args(req.params!)).toEqual(['invoke', 'a', 'b', '1'])
    expect(req.id).toEqual({ string: 'x' })
  })

  it('reads every ChaincodeSpec member with Go types', () => {
    const req = ok('{"params":{"type":2,"timeout":-5,"secureContext":"u","confidentialityLevel":1,"metadata":"AAEC","attributes":["a","b"],"unknown":{"x":[1]}}}')
    const p = req.params!
    expect(p.type).toBe(ChaincodeSpec_Type.NODE)
    expect(p.timeout).toBe(-5)
    expect(p.secureContext).toBe('u')
    expect(p.confidentialityLevel).toBe(ConfidentialityLevel.CONFIDENTIAL)
    expect(p.metadata).toEqual(new Uint8Array([0, 1, 2]))
    expect(p.attributes).toEqual(['a', 'b'])
    expect(p.chaincodeID).toBeUndefined()
    expect(p.ctorMsg).toBeUndefined()
  })

  it('tells absent members from empty ones, as Go pointers do', () => {
    expect(ok('{"params":{"chaincodeID":{},"ctorMsg":{}}}').params?.chaincodeID?.name).toBe('')
    expect(ok('{"params":{"chaincodeID":null}}').params?.chaincodeID).toBeUndefined()
    expect(ok('{"params":null}').params).toBeUndefined()
    expect(ok('null')).toEqual({})
    expect(ok('{"id":null,"jsonrpc":"2.0"}').id).toBeUndefined()
  })

  it('keeps 64-bit ids exact', () => {
    const req = ok('{"id":-9223372036854775808}')
    expect(rpcIdJson(req.id)).toBe('-9223372036854775808')
    expect(rpcIdJson({ string: 'a<b' })).toBe('"a\\u003cb"')
    expect(rpcIdJson(undefined)).toBe('null')
  })

  it('reports syntax errors with Go text', () => {
    expect(err('{')).toBe('unexpected end of JSON input')
    expect(err('  ')).toBe('unexpected end of JSON input')
    expect(err('x')).toBe("invalid character 'x' looking for beginning of value")
    expect(err('{"a" 1}')).toBe("invalid character '1' after object key")
    expect(err('{"a":1 "b"}')).toBe("invalid character '\"' after object key:value pair")
    expect(err('{"a":1,}')).toBe("invalid character '}' looking for beginning of object key string")
    expect(err('[1,]')).toBe("invalid character ']' looking for beginning of value")
    expect(err('[1 2]')).toBe("invalid character '2' after array element")
    expect(err('trux')).toBe("invalid character 'x' in literal true (expecting 'e')")
    expect(err('01')).toBe("invalid character '1' after top-level value")
    expect(err('{} {}')).toBe("invalid character '{' after top-level value")
    expect(err('-x')).toBe("invalid character 'x' in numeric literal")
    expect(err('1.x')).toBe("invalid character 'x' after decimal point in numeric literal")
    expect(err('1ex')).toBe("invalid character 'x' in exponent of numeric literal")
    expect(err('"a\u0001"')).toBe("invalid character '\\x01' in string literal")
    expect(err('"\\q"')).toBe("invalid character 'q' in string escape code")
    expect(err('"\\u12x4"')).toBe("invalid character 'x' in \\u hexadecimal character escape")
    expect(err('['.repeat(10001) + ']'.repeat(10001))).toBe('exceeded max depth')
    expect(parseGoJson('['.repeat(10000) + ']'.repeat(10000)).kind).toBe('array')
  })

  it('reports type errors with Go text', () => {
    expect(err('[]')).toBe('json: cannot unmarshal array into Go value of type rest.rpcRequest')
    expect(err('{"jsonrpc":2.0}')).toBe('json: cannot unmarshal number into Go struct field rpcRequest.jsonrpc of type string')
    expect(err('{"params":[1]}')).toBe('json: cannot unmarshal array into Go struct field rpcRequest.params of type protos.ChaincodeSpec')
    expect(err('{"params":{"type":"GOLANG"}}')).toBe('json: cannot unmarshal string into Go struct field ChaincodeSpec.params.type of type protos.ChaincodeSpec_Type')
    expect(err('{"params":{"timeout":1.5}}')).toBe('json: cannot unmarshal number 1.5 into Go struct field ChaincodeSpec.params.timeout of type int32')
    expect(err('{"params":{"timeout":2147483648}}')).toBe('json: cannot unmarshal number 2147483648 into Go struct field ChaincodeSpec.params.timeout of type int32')
    expect(err('{"params":{"chaincodeID":{"name":5}}}')).toBe('json: cannot unmarshal number into Go struct field ChaincodeID.params.chaincodeID.name of type string')
    expect(err('{"params":{"ctorMsg":{"args":[1]}}}')).toBe('json: cannot unmarshal number into Go struct field ChaincodeSpec.params.ctorMsg of type string')
    expect(err('{"params":{"ctorMsg":{"args":"a"}}}')).toBe('json: cannot unmarshal string into Go struct field ChaincodeSpec.params.ctorMsg of type []string')
    expect(err('{"params":{"ctorMsg":"a"}}')).toBe('json: cannot unmarshal string into Go struct field ChaincodeSpec.params.ctorMsg of type protos.strArgs')
    expect(err('{"params":{"metadata":"A"}}')).toBe('illegal base64 data at input byte 1')
    expect(err('{"id":1.5}')).toBe('cannot unmarshal 1.5 into Go value of type int64 or string')
    expect(err('{"id": {"a": 1}}')).toBe('cannot unmarshal {"a": 1} into Go value of type int64 or string')
    expect(err('{"id":9223372036854775808}')).toBe('cannot unmarshal 9223372036854775808 into Go value of type int64 or string')
    // The first type mismatch is the one reported; decoding goes on past it.
    expect(err('{"method":1,"jsonrpc":true}')).toBe('json: cannot unmarshal number into Go struct field rpcRequest.method of type string')
  })

  it('reads the plain requests it takes in one pass as the general reader does', () => {
    // The one-pass reader (plain-rpc-request.ts) takes no escapes: a body whose "jsonrpc" key is
    // written with one is read only by the general reader, which must give the same request.
    const general = (body: string) => parseRpcRequest(body.replace('"jsonrpc"', '"jsonrp\\u0063"'))
    const legacyBodies = [...legacy.workload.flatMap((g: any) => g.requests), ...legacy.queries_after_workload].map((r: any) => r.request_body as string)
    const bodies = [
      ...legacyBodies,
      '{"jsonrpc":"2.0","method":"query","params":{"type":1,"chaincodeID":{"name":"mycc"},"ctorMsg":{"args":["query","a"]}},"id":1}',
      ' {\n "jsonrpc" : "2.0" ,\t"method":"invoke", "params" : { "type" : 4 , "chaincodeID" : { "path" : "p/q", "name" : "n" } , "ctorMsg" : { "args" : [ ] } , "secureContext" : "jim" } , "id" : "7" }\r\n',
      '{"jsonrpc":"2.0","method":"invoke","params":{"ctorMsg":{"function":"invoke","args":["a","b","1"]}},"id":-0}',
      '{"jsonrpc":"2.0","params":{"ctorMsg":{"args":["x"],"function":""}},"id":-123456789012345678}',
      '{"jsonrpc":"2.0","params":{"ctorMsg":{"function":"f"},"chaincodeID":{}},"id":0}',
      '{"jsonrpc":"2.0","params":{},"id":"ü\u2028名"}',
      '{"jsonrpc":"2.0"}',
      '{"jsonrpc":"2.0","method":"query","params":{"type":0,"ctorMsg":{"args":["é","\ud83d\ude00"]}},"id":123456789012345678}',
      // Not plain: each goes to the general reader, with the same outcome either way.
      '{"jsonrpc":"2.0","id":1234567890123456789}',
      '{"jsonrpc":"2.0","id":1.5}',
      '{"jsonrpc":"2.0","id":1e3}',
      '{"jsonrpc":"2.0","id":01}',
      '{"jsonrpc":"2.0","id":null}',
      '{"jsonrpc":"2.0","params":{"type":-1}}',
      '{"jsonrpc":"2.0","params":{"type":-0}}',
      '{"jsonrpc":"2.0","params":{"type":"GOLANG"}}',
      '{"jsonrpc":"2.0","params":{"type":1,"type":2}}',
      '{"jsonrpc":"2.0","params":{"chaincodeID":{"name":"a","name":"b"}}}',
      '{"jsonrpc":"2.0","params":{"ctorMsg":{"args":["a"],"args":["b"]}}}',
      '{"jsonrpc":"2.0","params":{"ctorMsg":{"args":["a",1]}}}',
      '{"jsonrpc":"2.0","params":{"timeout":5}}',
      '{"jsonrpc":"2.0","method":"query","method":"invoke"}',
      '{"jsonrpc":"2.0","Method":"query"}',
      '{"jsonrpc":"2.0","wait":true}',
      '{"jsonrpc":"2.0","method":"q\\u0041"}',
      '{"jsonrpc":"2.0","method":"a\tb"}',
      '{"jsonrpc":"2.0",}',
      '{"jsonrpc":"2.0"} x',
      '{"jsonrpc":"2.0"',
      '{"jsonrpc":"2.0","params":null}'
    ]
    for (const body of bodies) expect([body, parseRpcRequest(body)]).toEqual([body, general(body)])
  })
})

describe('Go JSON reader', () => {
  it('decodes escapes and surrogates as Go does', () => {
    const n = parseGoJson('"a\\u00e9\\ud83d\\ude00\\ud800x\\/"')
    expect(n).toMatchObject({ kind: 'string', value: 'aé😀\ufffdx/' })
  })

  it('decodes std base64 strictly', () => {
    expect(decodeGoBase64('AAEC')).toEqual(new Uint8Array([0, 1, 2]))
    expect(decodeGoBase64('AA==')).toEqual(new Uint8Array([0]))
    expect(decodeGoBase64('AAE=')).toEqual(new Uint8Array([0, 1]))
    expect(decodeGoBase64('AA\nEC')).toEqual(new Uint8Array([0, 1, 2]))
    for (const bad of ['AA', 'A===', 'AA=', 'AA==A', 'A-B_', 'AAE==']) expect(() => decodeGoBase64(bad)).toThrow(/illegal base64 data at input byte/)
  })
})
