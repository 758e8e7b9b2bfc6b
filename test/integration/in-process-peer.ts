// A Node peer as `weft node start` runs it (serve()), in the test's own process: loopback ports
// from the OS, a fresh data directory, web app off; `env` adds or overrides CORE_* variables.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serve, type RunningPeer } from '../../node/peer/serve.ts'
import { loadConfig } from '../../src/config/index.ts'

export interface InProcessPeer { peer: RunningPeer, dir: string, close (): Promise<void> }

export async function inProcessPeer (env: Record<string, string> = {}): Promise<InProcessPeer> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-peer-'))
  const peer = await serve(loadConfig({
    env: {
      CORE_PEER_FILESYSTEMPATH: dir,
      CORE_PEER_ADDRESS: '127.0.0.1:0',
      CORE_PEER_LISTENADDRESS: '127.0.0.1:0',
      CORE_REST_ADDRESS: '127.0.0.1:0',
      CORE_PEER_VALIDATOR_EVENTS_ADDRESS: '127.0.0.1:0',
      CORE_PEER_LIBP2P_ADDRESS: '127.0.0.1:0',
      CORE_WEB_ENABLED: 'false',
      ...env
    }
  }))
  return { peer, dir, close: async () => { await peer.stop(); await rm(dir, { recursive: true, force: true }) } }
}
