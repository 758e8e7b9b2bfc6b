import { create } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { loadCaConfig } from '../../src/ca/config.ts'
import { fromUtf8, utf8 } from '../../src/crypto/bytes.ts'
import { CaClient } from '../../src/crypto/fabric/ca-client.ts'
import { ecdsaSign, ecdsaVerify } from '../../src/crypto/fabric/ecdsa.ts'
import { generateEcKey } from '../../src/crypto/fabric/ec-key.ts'
import { marshalPrivateKey, marshalPublicKey } from '../../src/crypto/fabric/keys.ts'
import { certDerToPem, encodePem, pemToCertDer } from '../../src/crypto/fabric/pem.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { parseCertificate } from '../../src/crypto/fabric/x509.ts'
import { CryptoType, ECAA, RegisterUserReqSchema, Role, TLSCertCreateReqSchema } from '../../src/protos/ca_pb.ts'
import { createCaRpc, type NodeCaRpc } from '../../node/ca/client.ts'
import { serveCa, type RunningCa } from '../../node/ca/serve.ts'
import { clientConstructor } from '../../node/grpc/service-definition.ts'
import { credentials } from '@grpc/grpc-js'
import { unaryCall } from '../../node/grpc/client.ts'
import { Proc } from '../helpers/processes.ts'
import { memoryCa, signRequest } from '../unit/ca-helpers.ts'

let ca: RunningCa | undefined
let rpc: NodeCaRpc | undefined
let dir: string | undefined
afterEach(async () => {
  rpc?.close()
  await ca?.stop()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  ca = rpc = dir = undefined
})

async function start (level: 256 | 384): Promise<{ client: CaClient, address: string }> {
  dir = await mkdtemp(join(tmpdir(), 'weft-ca-'))
  ca = await serveCa(loadCaConfig({ env: { MEMBERSRVC_CA_SERVER_PORT: '127.0.0.1:0', MEMBERSRVC_CA_SECURITY_LEVEL: String(level) } }), dir)
  rpc = await createCaRpc({ eca: ca.grpc.address, timeout: 10_000 })
  return { client: new CaClient({ suite: cryptoSuite('SHA3', level), rpc, now: () => Date.now() }), address: ca.grpc.address }
}

for (const level of [256, 384] as const) {
  const suite = cryptoSuite('SHA3', level)

  describe(`Weft's CA over gRPC, security level ${level}`, () => {
    it('enrolls Weft\'s client, gives it TCerts whose keys sign, and a TLS certificate', async () => {
      const { client } = await start(level)
      const jim = await client.enroll('jim', '6avZQLwcUe9b')
      expect(jim.ecert.subject.commonName).toBe('jim\\bank_a')
      expect(jim.role).toBe(1)
      const batch = await client.getTCerts('jim', jim.signKey, 5)
      expect(batch.tcerts).toHaveLength(5)
      for (const t of batch.tcerts) {
        const msg = utf8('invoke a b 10')
        expect(ecdsaVerify(suite, t.cert.publicKey, msg, ecdsaSign(suite, t.privateKey, msg))).toBe(true)
      }
      const tls = await client.getTlsCertificate('vp0')
      expect(tls.cert.subject.commonName).toMatch(/^vp0-[0-9a-f-]{36}$/)
      const root = parseCertificate(pemToCertDer(await readFile(join(dir!, 'tlsca.cert'), 'utf8')))
      expect(root.raw).toEqual(tls.rootCert.raw)
    })

    it('answers bad input with gRPC statuses and stores nothing', async () => {
      const { client } = await start(level)
      await expect(client.enroll('jim', 'wrong')).rejects.toMatchObject({ code: 16 }) // UNAUTHENTICATED
      await expect(client.enroll('nobody', 'x')).rejects.toMatchObject({ code: 5 }) // NOT_FOUND
      const jim = await client.enroll('jim', '6avZQLwcUe9b')
      await expect(client.enroll('jim', '6avZQLwcUe9b')).rejects.toMatchObject({ code: 9 }) // FAILED_PRECONDITION
      await expect(client.getTCerts('lukas', jim.signKey, 1)).rejects.toMatchObject({ code: 5 })
      expect(await ca!.services.store.certificatesOf('eca', 'jim')).toHaveLength(2)
    })
  })
}

describe('ECAA over gRPC', () => {
  it('registers a user for a registrar; the user then enrolls', async () => {
    const { client, address } = await start(256)
    const suite = cryptoSuite('SHA3', 256)
    const admin = await client.enroll('admin', 'Xurw3yU9zI0l')
    const Ctor = clientConstructor(ECAA)
    const ecaa = new Ctor(address, credentials.createInsecure())
    try {
      const req = create(RegisterUserReqSchema, { id: { id: 'zoe' }, role: Role.CLIENT, affiliation: 'bank_b', registrar: { id: { id: 'admin' }, roles: ['client'] } })
      req.sig = signRequest(suite, admin.signKey, RegisterUserReqSchema, req)
      const token = await unaryCall(ecaa, 'registerUser', req, { timeout: 10_000 }) as { tok: Uint8Array }
      const zoe = await client.enroll('zoe', fromUtf8(token.tok))
      expect(zoe.ecert.subject.commonName).toBe('zoe\\bank_b')
      const bad = create(RegisterUserReqSchema, { id: { id: 'max' }, role: Role.VALIDATOR, registrar: { id: { id: 'zoe' } } })
      bad.sig = signRequest(suite, zoe.signKey, RegisterUserReqSchema, bad)
      await expect(unaryCall(ecaa, 'registerUser', bad, { timeout: 10_000 })).rejects.toMatchObject({ code: 7 }) // PERMISSION_DENIED
    } finally {
      ecaa.close()
    }
  })
})

describe('weft ca start', () => {
  it('prints its banner, serves, and stops cleanly on SIGINT and SIGTERM', async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-ca-'))
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const p = Proc.weft(['ca', 'start', '--data-dir', dir], { env: { MEMBERSRVC_CA_SERVER_PORT: '127.0.0.1:0' } })
      try {
        await p.waitForOutput('the banner', /gRPC\s+127\.0\.0\.1:\d+/, { timeoutMs: 60_000 })
        const address = /gRPC\s+(127\.0\.0\.1:\d+)/.exec(p.stdout)![1]
        rpc = await createCaRpc({ eca: address, timeout: 10_000 })
        const client = new CaClient({ suite: cryptoSuite('SHA3', 256), rpc, now: () => Date.now() })
        expect((await client.readEcaCertificate()).subject.commonName).toBe('eca')
        rpc.close()
        rpc = undefined
        expect(await p.signal(signal)).toEqual({ code: 0, signal: null })
      } finally {
        await p.stop()
      }
    }
  }, 120_000)
})

describe('security.tls_enabled', () => {
  it('serves over TLS with server.tls.*, refusing a client without TLS', async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-ca-'))
    // A TLS certificate for "localhost" from a TLSCA of Weft's own, written as PEM files.
    const issuer = await memoryCa(256)
    const key = generateEcKey('P-256')
    const req = create(TLSCertCreateReqSchema, { ts: timestampFromMs(Date.now()), id: { id: 'localhost' }, pub: { type: CryptoType.ECDSA, key: marshalPublicKey(key.publicKey) } })
    req.sig = signRequest(cryptoSuite('SHA3', 256), key, TLSCertCreateReqSchema, req)
    const issued = await issuer.tlsca.tlscap.createCertificate(req)
    const files = { cert: join(dir, 'server.pem'), key: join(dir, 'server.key'), root: join(dir, 'root.pem') }
    await writeFile(files.cert, certDerToPem(issued.cert!.cert))
    await writeFile(files.key, encodePem('EC PRIVATE KEY', marshalPrivateKey(key)))
    await writeFile(files.root, certDerToPem(issued.rootCert!.cert))
    ca = await serveCa(loadCaConfig({
      env: {
        MEMBERSRVC_CA_SERVER_PORT: '127.0.0.1:0',
        MEMBERSRVC_CA_SECURITY_TLS_ENABLED: 'true',
        MEMBERSRVC_CA_SERVER_TLS_CERT_FILE: files.cert,
        MEMBERSRVC_CA_SERVER_TLS_KEY_FILE: files.key
      }
    }), join(dir, 'ca'))
    rpc = await createCaRpc({ eca: ca.grpc.address, timeout: 10_000, tls: { rootCertFile: files.root, serverNameOverride: 'localhost' } })
    const client = new CaClient({ suite: cryptoSuite('SHA3', 256), rpc, now: () => Date.now() })
    expect((await client.enroll('lukas', 'NPKYL39uKbkj')).ecert.subject.commonName).toBe('lukas\\bank_a')
    const plain = await createCaRpc({ eca: ca.grpc.address, timeout: 3_000 })
    try {
      await expect(new CaClient({ suite: cryptoSuite('SHA3', 256), rpc: plain, now: () => Date.now() }).readEcaCertificate()).rejects.toMatchObject({ code: 14 }) // UNAVAILABLE
    } finally {
      plain.close()
    }
  })
})
