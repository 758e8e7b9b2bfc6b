import { readFileSync } from 'node:fs'
import { fromBinary, toBinary } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { checkMessageCase } from '../../src/conformance/messages.ts'
import { fromHex, toHex } from '../../src/crypto/bytes.ts'
import { messageSchema } from '../../src/protos/registry.ts'

interface VectorCase { name: string, type: string, proto_hex: string, json?: unknown, payload?: { type: string, proto_hex: string, json?: unknown } }
const vectors = JSON.parse(readFileSync(new URL('../vectors/messages.json', import.meta.url), 'utf8')) as { cases: VectorCase[] }
const byName = (name: string): VectorCase => {
  const c = vectors.cases.find(x => x.name === name)
  if (c === undefined) throw new Error(`no vector ${name}`)
  return structuredClone(c)
}

describe('messages vectors (Fabric 0.6.1 wire)', () => {
  it('has cases', () => { expect(vectors.cases.length).toBeGreaterThan(0) })

  it.each(vectors.cases.map(c => [c.name, c] as const))('%s round-trips byte-identically', (_name, c) => {
    const r = checkMessageCase(c)
    expect(r.unknownFields, 'decoding relied on unknown fields: our .proto is missing a field').toBeUndefined()
    expect(r, r.detail).toEqual({ name: c.name, ok: true })
  })
})

describe('checkMessageCase on bad input', () => {
  it('reports corrupted hex as a failure instead of throwing', () => {
    const c = byName('message_disc_hello')
    c.proto_hex = c.proto_hex.slice(0, 9) + 'zz'
    const r = checkMessageCase(c)
    expect(r.ok).toBe(false)
    expect(r.detail).toMatch(/proto_hex/)
  })

  it('reports truncated protobuf as a failure', () => {
    const c = byName('message_disc_hello')
    c.proto_hex = c.proto_hex.slice(0, 20)
    const r = checkMessageCase(c)
    expect(r).toMatchObject({ name: 'message_disc_hello', ok: false })
    expect(r.detail).toMatch(/does not decode/)
  })

  it.each([
    [null, /not an object/],
    [42, /not an object/],
    [{ name: 'x', proto_hex: '' }, /missing type/],
    [{ name: 'x', type: 'protos.Message' }, /missing proto_hex/],
    [{ name: 'x', type: 'protos.Nope', proto_hex: '' }, /unknown message type protos\.Nope/],
    [{ name: 'x', type: 'protos.Message', proto_hex: '0801', payload: 'zz' }, /payload is not an object/],
    [{ name: 'x', type: 'protos.Message', proto_hex: '0801', payload: { type: 'protos.Response' } }, /payload: missing proto_hex/]
  ])('malformed case %j → ok:false', (c, detail) => {
    const r = checkMessageCase(c)
    expect(r.ok).toBe(false)
    expect(r.detail).toMatch(detail)
  })

  it('detects a payload that does not match the outer payload field', () => {
    const c = byName('message_sync_get_blocks')
    c.payload!.proto_hex = '0801'
    c.payload!.json = { correlationId: 1 }
    const r = checkMessageCase(c)
    expect(r.ok).toBe(false)
    expect(r.detail).toMatch(/outer payload field differs/)
  })

  it('detects decoded fields that disagree with the json rendering', () => {
    const c = byName('peer_address_negative_port')
    c.json = { host: 'h', port: 1 }
    const r = checkMessageCase(c)
    expect(r.ok).toBe(false)
    expect(r.detail).toMatch(/port: expected 1, got -1/)
  })

  it('re-emits unknown fields but flags the case', () => {
    // Field 15, wire type varint, value 1: not part of protos.Message.
    const c = byName('message_disc_get_peers')
    const withUnknown = c.proto_hex + '7801'
    const desc = messageSchema('protos.Message')
    expect(toHex(toBinary(desc, fromBinary(desc, fromHex(withUnknown))))).toBe(withUnknown)
    c.proto_hex = withUnknown
    const r = checkMessageCase(c)
    expect(r.ok).toBe(false)
    expect(r.unknownFields).toEqual(['protos.Message: field 15 (varint)'])
    expect(r.detail).toMatch(/unknown fields/)
  })
})

describe('registry', () => {
  it('resolves Fabric message names and rejects others', () => {
    expect(messageSchema('protos.Message').typeName).toBe('protos.Message')
    expect(messageSchema('protos.ChaincodeMessage').field.payload.number).toBe(3)
    expect(messageSchema('protos.Block').fields.map(f => f.number)).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(messageSchema('pbft.message').oneofs[0].name).toBe('payload')
    expect(() => messageSchema('protos.Nope')).toThrow('unknown message type protos.Nope')
  })
})
