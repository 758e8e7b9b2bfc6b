import { create } from '@bufbuild/protobuf'
import type { Server } from '@grpc/grpc-js'
import { blockForClients } from '../../src/events/code-package.ts'
import type { PeerApi } from '../../src/peer-api.ts'
import { BlockCountSchema, Openchain, type BlockNumber } from '../../src/protos/api_pb.ts'
import { addService } from './service-definition.ts'
import { unary } from './unary.ts'

/**
 * protos.Openchain as Fabric's ServerOpenchain answers it: an empty chain is an error,
 * a block past the end is "openchain: resource not found", blocks come without deploy
 * code packages (see blockForClients for `privacy`), GetPeers lists the known peers only.
 */
export function addOpenchainService (server: Server, peer: PeerApi, privacy = false): void {
  addService(server, Openchain, {
    getBlockchainInfo: unary('/protos.Openchain/GetBlockchainInfo', async () => {
      const info = await peer.getBlockchainInfo()
      if (info.height === 0n) throw new Error('No blocks in blockchain.')
      return info
    }),
    getBlockByNumber: unary('/protos.Openchain/GetBlockByNumber', async (req: BlockNumber) => {
      const block = await peer.getBlockByNumber(req.number)
      if (block === undefined) throw new Error('openchain: resource not found')
      return blockForClients(block, privacy)
    }),
    getBlockCount: unary('/protos.Openchain/GetBlockCount', async () => {
      const { height } = await peer.getBlockchainInfo()
      if (height === 0n) throw new Error('No blocks in blockchain.')
      return create(BlockCountSchema, { count: height })
    }),
    getPeers: unary('/protos.Openchain/GetPeers', async () => peer.getPeers())
  })
}
