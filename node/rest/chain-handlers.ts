import { create } from '@bufbuild/protobuf'
import { blockForClients } from '../../src/events/code-package.ts'
import { goJson } from '../../src/gojson/encode.ts'
import type { PeerApi } from '../../src/peer-api.ts'
import { BlockchainInfoSchema, BlockSchema, PeersMessageSchema, TransactionSchema } from '../../src/protos/fabric_pb.ts'
import { restError, type RestReply } from './replies.ts'

const errorMessage = (err: unknown): string => err instanceof Error ? err.message : String(err)
const ok = (json: string): RestReply => ({ status: 200, body: json + '\n' })

/** GET /chain: BlockchainInfo; an empty chain is an error, as in Fabric's Openchain server. */
export async function getChain (peer: PeerApi): Promise<RestReply> {
  try {
    const info = await peer.getBlockchainInfo()
    if (info.height === 0n) return restError(400, 'No blocks in blockchain.')
    return ok(goJson(BlockchainInfoSchema, info))
  } catch (err) {
    return restError(400, errorMessage(err))
  }
}

const maxUint64 = 2n ** 64n - 1n

/** GET /chain/blocks/:id: the block with deploy code packages removed (see blockForClients for `privacy`). */
export async function getBlock (peer: PeerApi, id: string, idValid: boolean, privacy: boolean): Promise<RestReply> {
  // strconv.ParseUint(id, 10, 64): plain digits within range.
  if (!idValid || !/^[0-9]+$/.test(id) || BigInt(id) > maxUint64) return restError(400, 'Block id must be an integer (uint64).')
  let block
  try {
    block = await peer.getBlockByNumber(BigInt(id))
  } catch (err) {
    return restError(500, `Error retrieving block from blockchain: ${errorMessage(err)}`)
  }
  if (block === undefined) return restError(404, 'openchain: resource not found')
  try {
    return ok(goJson(BlockSchema, blockForClients(block, privacy)))
  } catch (err) {
    return restError(500, errorMessage(err))
  }
}

/** Names the block holding a transaction on GET /transactions/:id's 200 answer, whose body stays Fabric's. */
const blockHeader = 'weft-block'

/**
 * GET /transactions/:id: the whole transaction (code package included). One this peer rejected
 * (and still remembers) is 410 Gone with the reason: it will never be in the chain.
 */
export async function getTransaction (peer: PeerApi, txid: string): Promise<RestReply> {
  try {
    const tx = await peer.getTransactionByID(txid)
    const state = await peer.transactionStatus(txid)
    if (tx !== undefined) {
      return { ...ok(goJson(TransactionSchema, tx)), headers: state.status === 'committed' ? { [blockHeader]: String(state.block) } : undefined }
    }
    if (state.status === 'rejected') {
      const body = { Error: `Transaction ${txid} was rejected: ${state.error}`, txid, status: 'rejected', reason: state.error, rejectedAt: new Date(state.at).toISOString() }
      return { status: 410, body: JSON.stringify(body) + '\n' }
    }
    return restError(404, `Transaction ${txid} is not found.`)
  } catch (err) {
    return restError(500, `Error retrieving transaction ${txid}: ${errorMessage(err)}.`)
  }
}

/** GET /network/peers: the known peers, with this peer added when the list lacks it. */
export async function getPeers (peer: PeerApi): Promise<RestReply> {
  let peers, self
  try {
    peers = await peer.getPeers()
  } catch (err) {
    return restError(400, errorMessage(err))
  }
  try {
    self = await peer.getPeerEndpoint()
  } catch (err) {
    return restError(400, errorMessage(err))
  }
  const list = [...peers.peers]
  if (!list.some(p => p.ID?.name === self.ID?.name)) list.push(self)
  return ok(goJson(PeersMessageSchema, create(PeersMessageSchema, { peers: list })))
}
