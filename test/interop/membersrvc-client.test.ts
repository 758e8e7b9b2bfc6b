// node/ca/client.ts on the wire: a grpc-js server answers with what Fabric 0.6.1's membersrvc
// answered (test/vectors/security), and Weft's CaClient over createCaRpc must send the requests
// it sent then, byte for byte, and get the same failures (grpc-go's wording of an UNKNOWN status).
import { fromBinary, toBinary, type DescService } from '@bufbuild/protobuf'
import { Server, ServerCredentials, status, type UntypedHandleCall } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromHex, toHex } from '../../src/crypto/bytes.ts'
import { ECAP, TCAP, TLSCAP } from '../../src/protos/ca_pb.ts'
import { createCaRpc } from '../../node/ca/client.ts'
import { addService } from '../../node/grpc/service-definition.ts'
import { loadRecording, replayClient } from '../unit/membersrvc-recording.ts'

const rec = loadRecording('256-SHA3')
const exchanges = [...rec.exchanges]
const seen: string[] = []
let server: Server
let address: string

function recorded (name: string, desc: DescService): Record<string, UntypedHandleCall> {
  const impl: Record<string, UntypedHandleCall> = {}
  for (const m of desc.methods) {
    impl[m.localName] = ((call: { request: unknown }, cb: (err: { code: number, details: string } | null, res?: unknown) => void) => {
      const e = exchanges.shift()
      seen.push(`${name}.${m.localName} ${e?.service}.${e?.method} ${String(toHex(toBinary(m.input, call.request as never)) === e?.request)}`)
      if (e?.error !== undefined) cb({ code: status.UNKNOWN, details: e.error.replace(/^rpc error: code = 2 desc = /, '') })
      else cb(null, fromBinary(m.output, fromHex(e!.response!)))
    }) as UntypedHandleCall
  }
  return impl
}

beforeAll(async () => {
  server = new Server()
  addService(server, ECAP, recorded('ECAP', ECAP))
  addService(server, TCAP, recorded('TCAP', TCAP))
  addService(server, TLSCAP, recorded('TLSCAP', TLSCAP))
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => { if (err !== null) reject(err); else resolve(p) })
  })
  address = `127.0.0.1:${port}`
})
afterAll(async () => { await new Promise<void>(resolve => { server.tryShutdown(() => { resolve() }) }) })

describe('membersrvc client over gRPC', () => {
  it('enrols, gets a TCert batch and a TLS certificate, and reports a refused enrolment as grpc-go words it', async () => {
    const rpc = await createCaRpc({ eca: address, timeout: 10_000 })
    try {
      const { client, done } = replayClient(rec, rpc)
      const user = await client.enroll('test_user0', 'MS9qrN8hFjlE')
      expect(user.ecert.subject.commonName).toBe('test_user0\\bank_a')
      expect((await client.getTCerts('test_user0', user.signKey, 3)).tcerts.length).toBe(3)
      await client.getTlsCertificate('test_user0')
      const vp = await client.enroll('test_vp0', 'MwYpmSRjupbT')
      expect(vp.role).toBe(4)
      await client.getTlsCertificate('test_vp0')
      await expect(client.enroll('test_user1', 'wrong')).rejects.toThrow('rpc error: code = 2 desc = Identity or token does not match.')
      await expect(client.enroll('test_user0', 'MS9qrN8hFjlE')).rejects.toThrow('rpc error: code = 2 desc = Identity or token does not match.')
      done()
      expect(exchanges).toEqual([])
      expect(seen).toEqual(rec.exchanges.map((e) => `${e.service}.${e.method} ${e.service}.${e.method} true`))
    } finally {
      rpc.close()
    }
  })
})
