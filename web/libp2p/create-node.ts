// A browser tab's libp2p: WebSockets out to Node peers, WebRTC to other tabs (signalled through
// a Node peer's circuit relay), the circuit-relay transport itself, noise, yamux and identify.
// Browser libp2p refuses ws:// and private addresses by default; Weft's Node peer is exactly
// that on a laptop or in tests, so the gater lets them through.
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify, type Identify } from '@libp2p/identify'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { webRTC } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'

export interface BrowserLibp2pOptions {
  privateKey?: PrivateKey
  /**
   * Listen addresses. Default ['/p2p-circuit', '/webrtc']: hold a reservation on the relay of
   * each Node peer we connect to, and accept WebRTC connections signalled through it.
   */
  listen?: string[]
  /** Default true. */
  webrtc?: boolean
  /**
   * For every RTCPeerConnection. Default { iceServers: [] }: host candidates only, never a
   * public STUN server (libp2p's own default lists Google's, Twilio's, …).
   */
  rtcConfiguration?: RTCConfiguration
}

export type BrowserLibp2p = Libp2p<{ identify: Identify }>

export async function createBrowserLibp2p (opts: BrowserLibp2pOptions = {}): Promise<BrowserLibp2p> {
  const webrtc = opts.webrtc ?? true
  const rtcConfiguration = opts.rtcConfiguration ?? { iceServers: [] }
  return await createLibp2p({
    privateKey: opts.privateKey,
    addresses: { listen: opts.listen ?? (webrtc ? ['/p2p-circuit', '/webrtc'] : ['/p2p-circuit']) },
    transports: [
      webSockets(),
      ...(webrtc ? [webRTC({ rtcConfiguration })] : []),
      circuitRelayTransport()
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: async () => false },
    services: { identify: identify() }
  })
}
