// A browser tab's libp2p: WebSockets out to the Node peer, circuit relay through it, noise,
// yamux and identify. Browser libp2p refuses ws:// and private addresses by default; Weft's
// Node peer is exactly that on a laptop or in tests, so the gater lets them through.
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify, type Identify } from '@libp2p/identify'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'

export interface BrowserLibp2pOptions {
  privateKey?: PrivateKey
  /** e.g. ['/p2p-circuit'] to be reachable through a relay. */
  listen?: string[]
}

export type BrowserLibp2p = Libp2p<{ identify: Identify }>

export async function createBrowserLibp2p (opts: BrowserLibp2pOptions = {}): Promise<BrowserLibp2p> {
  return await createLibp2p({
    privateKey: opts.privateKey,
    addresses: { listen: opts.listen ?? [] },
    transports: [webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: async () => false },
    services: { identify: identify() }
  })
}
