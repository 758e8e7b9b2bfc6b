// Peers and clients with peer.tls.* on, as Fabric 0.6.1 runs them: gRPC, events and REST over
// TLS, peers dialling each other with the CA as root and peer.tls.serverhostoverride as the
// name, the CLI likewise; plaintext clients refused and counted, untrusted certificates refused.
import { mkdtemp, rm } from 'node:fs/promises'
import { connect as connectTcp } from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import { restGet } from '../../node/cli/rest-client.ts'
import * as example02Module from '../../examples/chaincode/example02.ts'
import { runExternalChaincode } from '../../node/chaincode/external.ts'
import { addAdminService } from '../../node/grpc/admin-service.ts'
import { addChaincodeSupportService } from '../../node/grpc/chaincode-support-service.ts'
import { clientCredentials } from '../../node/grpc/client.ts'
import { startGrpcServer } from '../../node/grpc/server.ts'
import { serve, type RunningPeer } from '../../node/peer/serve.ts'
import { ChaincodeSupport } from '../../src/chaincode/support.ts'
import { ConfigError, loadConfig, withOverrides, type ConfigOverrides } from '../../src/config/index.ts'
import type { PeerNode } from '../../src/peer-node.ts'
import { setLogLevel } from '../../src/util/logger.ts'
import { freePorts } from '../../node/net/free-ports.ts'
import { captureLogs } from '../helpers/logs.ts'
import { SERVER_NAME, serverTls, tlsFiles } from '../helpers/tls-fixtures.ts'
import { waitFor } from '../helpers/wait.ts'
import { weftWith, type Run } from '../interop/weft-cli.ts'
import { inProcessPeer, type InProcessPeer } from './in-process-peer.ts'
import { newLedger } from '../unit/chaincode-helpers.ts'

const example02Path = fileURLToPath(new URL('../../examples/chaincode/example02.ts', import.meta.url))
const ctor = (...args: string[]): string => JSON.stringify({ Args: args })

let logs: ReturnType<typeof captureLogs>
const running: InProcessPeer[] = []

type PeerKeys = NonNullable<ConfigOverrides['peer']>

/** A peer serving TLS at `address` (gRPC; the other listeners on free ports), with peer.tls.serverhostoverride set. */
async function tlsPeer (address: string, keys: PeerKeys): Promise<RunningPeer> {
  const p = await inProcessPeer({
    peer: {
      ...keys,
      address,
      listenAddress: address,
      discovery: { period: 1000, ...keys.discovery },
      tls: { enabled: true, serverhostoverride: SERVER_NAME, ...keys.tls }
    },
    noops: { block: { wait: 100 } }
  })
  running.push(p)
  return p.peer
}

/** The CLI's environment for a TLS peer: its addresses and peer.tls.* (`tls` replaces or, with '', drops keys). */
function cliEnv (peer: RunningPeer, tls: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    CORE_PEER_VALIDATOR_EVENTS_ADDRESS: peer.events.address,
    CORE_REST_ADDRESS: new URL(peer.restUrl!).host,
    CORE_PEER_TLS_ENABLED: 'true',
    CORE_PEER_TLS_ROOTCERT_FILE: tlsFiles.ca,
    CORE_PEER_TLS_SERVERHOSTOVERRIDE: SERVER_NAME,
    ...tls
  }
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''))
}

const height = async (node: PeerNode): Promise<number> => (await node.head()).stateBlock
const chatWith = (node: PeerNode, name: string): string | undefined => node.connections().find(c => c.name === name)?.transport

let A: RunningPeer
let B: RunningPeer

beforeAll(async () => {
  logs = captureLogs()
  setLogLevel('warn')
  const [aPort, bPort] = await freePorts(2)
  // A names its files relative to the working directory, as Fabric's core.yaml does (testdata/server1.pem).
  const cwdRelative = (file: string): string => relative(process.cwd(), file)
  A = await tlsPeer(`127.0.0.1:${aPort}`, {
    id: 'vp0',
    tls: { cert: { file: cwdRelative(tlsFiles.server) }, key: { file: cwdRelative(tlsFiles.serverKey) }, rootcert: { file: cwdRelative(tlsFiles.ca) } },
    profile: { enabled: true, listenAddress: '127.0.0.1:0' }
  })
  // B trusts A as Fabric 0.6.1 does: its own peer.tls.cert.file, no peer.tls.rootcert.file.
  B = await tlsPeer(`127.0.0.1:${bPort}`, {
    id: 'nvp0',
    validator: { enabled: false },
    discovery: { rootnode: A.grpc.address },
    tls: { cert: { file: tlsFiles.server }, key: { file: tlsFiles.serverKey } }
  })
}, 60_000)

afterAll(async () => {
  for (const p of running.reverse()) await p.close()
  setLogLevel('info')
  logs.restore()
})

describe('TLS (peer.tls.*)', () => {
  it('TLS peers chat over gRPC; the CLI deploys, invokes and queries over TLS, waiting on the TLS event hub; REST answers over HTTPS', async () => {
    onTestFailed(() => { console.error(logs.dump()) })
    await waitFor('A and B chat over gRPC', () => chatWith(A.node, 'nvp0') === 'grpc' && chatWith(B.node, 'vp0') === 'grpc')

    const deployed = await weftWith(cliEnv(A), A.grpc.address, 'chaincode', 'deploy', '-p', example02Path, '-c', ctor('init', 'a', '100', 'b', '200'), '--wait')
    expect(deployed).toMatchObject({ code: 0, err: '' })
    const name = /^Deploy chaincode: ([0-9a-f]{128})\n/.exec(deployed.out)?.[1]
    expect(name).toBeDefined()
    // Sent to B, a non-validator, which hands it on to A over TLS.
    const invoked = await weftWith(cliEnv(B), B.grpc.address, 'chaincode', 'invoke', '-n', name!, '-c', ctor('invoke', 'a', 'b', '10'))
    expect(invoked).toMatchObject({ code: 0, err: '' })
    await waitFor('the invoke at A and B', async () => await height(A.node) === 2 && await height(B.node) === 2, 15_000)
    expect(await weftWith(cliEnv(A), A.grpc.address, 'chaincode', 'query', '-n', name!, '-c', ctor('query', 'a'))).toEqual({ code: 0, out: 'Query Result: 90\n', err: '' })

    expect(B.restUrl).toMatch(/^https:/)
    const chain = await restGet(new URL(B.restUrl!).host, { rootCertFile: tlsFiles.ca, serverNameOverride: SERVER_NAME }, '/chain', 5000)
    expect([chain.status, (JSON.parse(chain.body) as { height: number }).height]).toEqual([200, 3])
    // Plain HTTP to the HTTPS port gets no answer, and the peer names the client.
    await expect(restGet(new URL(B.restUrl!).host, undefined, '/chain', 5000)).rejects.toThrow(/^Error trying to reach the REST service at /)
    await waitFor('the REST refusal logged', () => logs.lines.some(l => l.level === 'warn' && l.name === 'rest' && /from 127\.0\.0\.1:\d+ /.test(l.msg)))
  })

  it('refuses a client without TLS, naming its address in the log and counting it in /metrics; TLS clients still get through', async () => {
    const before = A.grpc.plaintextRefused
    const plain = await weftWith(cliEnv(A, { CORE_PEER_TLS_ENABLED: 'false' }), A.grpc.address, 'node', 'status')
    expect(plain).toEqual({ code: 1, out: 'status:UNKNOWN \n', err: `Error: Error trying to connect to local peer: cannot connect to ${A.grpc.address}: the connection failed\n` })
    expect(A.grpc.plaintextRefused).toBeGreaterThan(before)
    expect(logs.lines.some(l => l.level === 'warn' && l.name === 'grpc' && /from 127\.0\.0\.1:\d+ /.test(l.msg))).toBe(true)
    const metrics = await (await fetch(A.metricsUrl!)).text()
    expect(metrics).toContain(`weft_tls_plaintext_refused_total{listener="peer.listenAddress"} ${A.grpc.plaintextRefused}`)
    expect(metrics).toContain('weft_tls_plaintext_refused_total{listener="peer.validator.events.address"} 0')
    // A client that resets before its first byte is neither TLS nor plaintext: dropped, nothing counted.
    const reset = connectTcp(A.grpc.port, '127.0.0.1')
    await new Promise<void>(resolve => reset.once('connect', resolve))
    reset.resetAndDestroy()
    await new Promise<void>(resolve => reset.once('close', () => { resolve() }))
    expect(await weftWith(cliEnv(A), A.grpc.address, 'node', 'status')).toEqual({ code: 0, out: 'status:STARTED \n', err: '' })
  })

  it('refuses a peer whose certificate does not chain to the root, or does not carry the expected name, saying so', async () => {
    // (Node warns once on stderr when grpc-js sends an IP address as the TLS server name.)
    const untrusted = /Error: Error trying to connect to local peer: cannot connect to 127\.0\.0\.1:\d+: TLS handshake failed, the peer's certificate is not trusted .*\n$/
    const wrongRoot: Run = await weftWith(cliEnv(A, { CORE_PEER_TLS_ROOTCERT_FILE: tlsFiles.otherCa }), A.grpc.address, 'node', 'status')
    expect(wrongRoot).toMatchObject({ code: 1, err: expect.stringMatching(untrusted) })
    // Without peer.tls.serverhostoverride the name checked is 127.0.0.1, which the certificate does not carry.
    const noOverride = await weftWith(cliEnv(A, { CORE_PEER_TLS_SERVERHOSTOVERRIDE: '' }), A.grpc.address, 'node', 'status')
    expect(noOverride).toMatchObject({ code: 1, err: expect.stringMatching(untrusted) })
    expect(noOverride.err).toContain("IP: 127.0.0.1 is not in the cert's list")
  })

  it('a TLS client dialling a plaintext port is told the peer does not speak TLS there; one dialling a closed port, that the connection failed', async () => {
    expect(await weftWith(cliEnv(A), '127.0.0.1:1', 'node', 'status')).toMatchObject({ code: 1, err: 'Error: Error trying to connect to local peer: cannot connect to 127.0.0.1:1: the connection failed\n' })
    const plain = await startGrpcServer({ address: '127.0.0.1:0', key: 'peer.listenAddress' }, s => { addAdminService(s, A.node) })
    try {
      const run = await weftWith(cliEnv(A), plain.address, 'node', 'status')
      expect(run).toMatchObject({ code: 1, err: expect.stringMatching(/^Error: Error trying to connect to local peer: cannot connect to 127\.0\.0\.1:\d+: TLS handshake failed, the peer does not speak TLS there/) })
    } finally {
      await plain.close(100)
    }
  })

  it('weft chaincode run registers with a TLS peer\'s ChaincodeSupport over TLS; without TLS it is refused', async () => {
    const support = new ChaincodeSupport({ ledger: await newLedger(), userRunsChaincode: true })
    const server = await startGrpcServer({ address: '127.0.0.1:0', key: 'peer.listenAddress', tls: serverTls() }, s => { addChaincodeSupportService(s, stream => support.handleStream(stream)) })
    try {
      await expect(runExternalChaincode({ address: server.address, name: 'plain', chaincode: example02Module, creds: await clientCredentials() }))
        .rejects.toThrow(/^Error trying to connect to local peer: /)
      expect(server.plaintextRefused).toBe(1)
      const tls = { rootCertFile: tlsFiles.server, serverNameOverride: SERVER_NAME }
      let registered!: () => void
      const heard = new Promise<void>(resolve => { registered = resolve })
      const served = runExternalChaincode({ address: server.address, name: 'jscc', chaincode: example02Module, creds: await clientCredentials(tls), tls, onRegistered: registered })
      await heard
      expect(support.registered()).toEqual(['jscc'])
      await support.stopAll()
      await expect(served).rejects.toThrow('peer is stopping')
    } finally {
      await server.close(100)
    }
  })

  it('does not start when peer.tls.cert.file is missing or the key is not its own, naming the files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weft-tls-'))
    const start = async (certFile: string): Promise<RunningPeer> => await serve(withOverrides(loadConfig(), {
      peer: { fileSystemPath: dir, tls: { enabled: true, cert: { file: certFile }, key: { file: tlsFiles.serverKey } } }
    }))
    try {
      // Fabric's default, which names no file here.
      await expect(start('testdata/server1.pem')).rejects.toThrow(new ConfigError('cannot read peer.tls.cert.file testdata/server1.pem: ENOENT: no such file or directory, open \'testdata/server1.pem\''))
      await expect(start(tlsFiles.ca)).rejects.toThrow(ConfigError)
      await expect(start(tlsFiles.ca)).rejects.toThrow(`peer.tls.cert.file ${tlsFiles.ca} and peer.tls.key.file ${tlsFiles.serverKey} are not a usable key pair`)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
