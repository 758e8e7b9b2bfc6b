import type { ConsensusStatus } from '../src/peer-node/consensus.ts'
import type { PeerMetrics } from '../src/peer-node/metrics.ts'
import type { PeerApi } from '../src/peer-api.ts'
import { PeerEndpoint_Type } from '../src/protos/fabric_pb.ts'
import { ServerStatus_StatusCode } from '../src/protos/server_admin_pb.ts'

/** What /healthz reads from a peer: PeerApi's status and chain, and PeerNode's figures where it has them. */
export type HealthSource = Pick<PeerApi, 'status' | 'getPeerEndpoint' | 'getBlockchainInfo' | 'getPeers'> & {
  metrics? (): PeerMetrics
  consensusStatus? (): ConsensusStatus | undefined
}

export interface Health {
  /** 200 while the peer serves and its consensus can order; 503 otherwise. */
  httpStatus: 200 | 503
  body: {
    status: 'ok' | 'unavailable'
    /** Why the peer cannot serve (only with 503). */
    reason?: string
    peerId: string
    height: number
    validator: boolean
    /** The consensus plugin a validator runs; null on a non-validator. */
    consensus: 'noops' | 'pbft' | null
    /** Peers with a chat to this one. */
    connectedPeers: number
  }
}

/**
 * A load balancer's or orchestrator's view of the peer: unavailable unless started, and on a
 * PBFT validator unless 2f+1 validators (itself included) are connected, without which no
 * request can be ordered.
 */
export async function checkHealth (peer: HealthSource): Promise<Health> {
  const state = peer.status()
  const endpoint = await peer.getPeerEndpoint()
  const self = endpoint.ID?.name ?? ''
  // A stopped peer's ledger may be closed already: its height is then unknown (0).
  const height = await peer.getBlockchainInfo().then(info => Number(info.height), () => 0)
  const connectedPeers = peer.metrics?.().peers ?? (await peer.getPeers().then(m => m.peers.filter(p => p.ID?.name !== self).length, () => 0))
  const consensus = peer.consensusStatus?.()
  let reason: string | undefined
  if (state !== ServerStatus_StatusCode.STARTED) {
    reason = `peer is ${ServerStatus_StatusCode[state] ?? state}`
  } else if (consensus?.plugin === 'pbft' && consensus.liveValidators.length < 2 * consensus.f + 1) {
    reason = `consensus stalled: ${consensus.liveValidators.length} of ${consensus.N} validators connected, PBFT needs ${2 * consensus.f + 1}`
  }
  return {
    httpStatus: reason === undefined ? 200 : 503,
    body: {
      status: reason === undefined ? 'ok' : 'unavailable',
      ...(reason === undefined ? {} : { reason }),
      peerId: self,
      height,
      validator: endpoint.type === PeerEndpoint_Type.VALIDATOR,
      consensus: consensus?.plugin ?? null,
      connectedPeers
    }
  }
}
