import { toBinary } from '@bufbuild/protobuf'
import { BlockchainInfoSchema } from '../protos/fabric_pb.ts'
import type { Ledger } from '../ledger/ledger.ts'
import type { LedgerStack } from './interfaces.ts'

/** The plugins' read-only view of our Ledger (Fabric's helper GetBlock/GetBlockchainInfo/...). */
export function ledgerStack (ledger: Ledger): LedgerStack {
  return {
    getBlock: n => ledger.getBlockByNumber(n),
    getBlockchainSize: () => ledger.height,
    getBlockchainInfo: () => ledger.getBlockchainInfo(),
    getBlockchainInfoBlob: async () => toBinary(BlockchainInfoSchema, await ledger.getBlockchainInfo()),
    async getBlockHeadMetadata () {
      if (ledger.height === 0) return new Uint8Array(0)
      const head = await ledger.getBlockByNumber(ledger.height - 1)
      return head?.consensusMetadata ?? new Uint8Array(0)
    },
    getCurrentStateHash: () => ledger.getTempStateHash(),
    hasTransaction: async txid => (await ledger.hasTransactions([txid]))[0]
  }
}
