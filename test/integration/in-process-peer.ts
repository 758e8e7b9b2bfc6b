// A Node peer as `weft node start` runs it (serve()), in the test's own process: loopback ports
// from the OS, a fresh data directory, web app off; `overrides` sets further keys, typed.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { serveCa, type RunningCa } from '../../node/ca/serve.ts'
import { serve, type RunningPeer } from '../../node/peer/serve.ts'
import { loadCaConfig } from '../../src/ca/config.ts'
import { loadConfig, withOverrides, type ConfigOverrides } from '../../src/config/index.ts'
import { setLogLevel } from '../../src/util/logger.ts'

export interface InProcessPeer { peer: RunningPeer, dir: string, close (): Promise<void> }

export async function inProcessPeer (overrides: ConfigOverrides = {}): Promise<InProcessPeer> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-peer-'))
  const local = withOverrides(loadConfig(), {
    peer: {
      fileSystemPath: dir,
      address: '127.0.0.1:0',
      listenAddress: '127.0.0.1:0',
      validator: { events: { address: '127.0.0.1:0' } },
      libp2p: { address: '127.0.0.1:0' }
    },
    rest: { address: '127.0.0.1:0' },
    web: { enabled: false }
  })
  const peer = await serve(withOverrides(local, overrides))
  return { peer, dir, close: async () => { await peer.stop(); await rm(dir, { recursive: true, force: true }) } }
}

/**
 * One in-process peer for a whole test file: started (logging at warn) before the tests, `ready`
 * given it to keep and prepare, stopped and removed after them.
 */
export function peerForSuite (overrides: ConfigOverrides, ready: (peer: RunningPeer) => Promise<void> | void): void {
  let running: InProcessPeer | undefined
  beforeAll(async () => {
    setLogLevel('warn')
    running = await inProcessPeer(overrides)
    await ready(running.peer)
  }, 60_000)
  afterAll(async () => {
    await running?.close()
    setLogLevel('info')
  })
}

/**
 * Weft's membership services (loopback, fresh directory; `caEnv` sets MEMBERSRVC_CA_*) and a
 * validator with security.enabled enrolled with it as test_vp0; `overrides` sets further keys.
 */
export async function securePeerWithCa (overrides: ConfigOverrides, caEnv: Record<string, string> = {}): Promise<{ ca: RunningCa, vp: InProcessPeer, close (): Promise<void> }> {
  const caDir = await mkdtemp(join(tmpdir(), 'weft-ca-'))
  const ca = await serveCa(loadCaConfig({ env: { MEMBERSRVC_CA_SERVER_PORT: '127.0.0.1:0', ...caEnv } }), caDir)
  const paddr = ca.grpc.address
  const vp = await inProcessPeer({
    ...overrides,
    security: { enabled: true, enrollID: 'test_vp0', enrollSecret: 'MwYpmSRjupbT', ...overrides.security },
    peer: { ...overrides.peer, pki: { eca: { paddr }, tca: { paddr }, tlsca: { paddr } } }
  })
  return {
    ca,
    vp,
    close: async () => {
      await vp.close()
      await ca.stop()
      await rm(caDir, { recursive: true, force: true })
    }
  }
}

export interface RpcAnswer { result?: { message: string }, error?: { code: number, data: string } }

/** One JSON-RPC 2.0 call to the peer's POST /chaincode (id 1), its parsed answer. */
export async function chaincodeRpc (peer: RunningPeer, body: Record<string, unknown>): Promise<RpcAnswer> {
  const res = await fetch(`${peer.restUrl}/chaincode`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, ...body }) })
  return await res.json() as RpcAnswer
}
