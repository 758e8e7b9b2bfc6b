// A Node peer as `weft node start` runs it (serve()), in the test's own process: loopback ports
// from the OS, a fresh data directory, web app off; `overrides` sets further keys, typed.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serve, type RunningPeer } from '../../node/peer/serve.ts'
import { loadConfig, withOverrides, type ConfigOverrides } from '../../src/config/index.ts'

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
