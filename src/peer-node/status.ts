import type { Ledger } from '../ledger/ledger.ts'
import type { Peer } from '../peer/peer.ts'
import type { PeerEndpoint_Type } from '../protos/fabric_pb.ts'

/** Height, head and state of the local chain. */
export interface ChainHead {
  /** Blocks in the chain, genesis included (0 before a non-validator has synced anything). */
  height: number
  /** Hash of the newest block (empty at height 0). */
  currentBlockHash: Uint8Array
  /** The block the world state belongs to (-1 for none). */
  stateBlock: number
  /** The world state's hash (empty for an empty state). */
  stateHash: Uint8Array
}

/** One peer this peer chats with (its registered chat). */
export interface PeerConnection {
  /** Its peer.id, from its HELLO. */
  name: string
  /** Its PeerEndpoint.address as it gave it. */
  address: string
  type: PeerEndpoint_Type
  /** What carries the chat: 'grpc', 'libp2p/ws', 'libp2p/webrtc', 'memory', … */
  transport: string
  /** The other side as the transport knows it (libp2p peer id, host:port, memory name). */
  remote: string
  /** This peer opened the chat. */
  initiated: boolean
  /** SYNC_BLOCK_ADDED messages it sent on this chat. */
  blocksAnnounced: number
}

export async function chainHead (ledger: Ledger): Promise<ChainHead> {
  const info = await ledger.getBlockchainInfo()
  return {
    height: ledger.height,
    currentBlockHash: info.currentBlockHash,
    stateBlock: ledger.stateBlockNumber,
    stateHash: (await ledger.getTempStateHash()) ?? new Uint8Array(0)
  }
}

export function connections (peer: Peer): PeerConnection[] {
  return peer.peerIDs().flatMap(id => {
    const h = peer.handlerFor(id)
    const ep = h?.to()
    if (h === undefined || ep === undefined) return []
    return [{ name: id, address: ep.address, type: ep.type, transport: h.stream.transport, remote: h.stream.remote, initiated: h.initiatedStream, blocksAnnounced: h.announced }]
  })
}
