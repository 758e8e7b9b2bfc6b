import { ChaincodeSupport } from '../chaincode/support.ts'
import type { CoreConfig } from '../config/schema.ts'
import { cryptoSuite } from '../crypto/fabric/suite.ts'
import type { Ledger } from '../ledger/ledger.ts'
import type { PeerPlatform } from '../peer-platform.ts'
import type { Transaction } from '../protos/fabric_pb.ts'
import { preExecuteTransaction, stateEncryptor } from '../security/confidentiality.ts'
import type { NodeSecurity } from '../security/member.ts'
import { transactionBinding } from '../security/transactions.ts'

/** The chaincode support of a peer, and what a validator does to a transaction before it runs. */
export interface PeerChaincode {
  support: ChaincodeSupport
  /** security.enabled: a confidential transaction decrypted for execution (others as they are). */
  preExecute?: (tx: Transaction) => Transaction
}

/** Chaincode support as the config sets it up: dev or network mode, and with security, binding and confidentiality. */
export function peerChaincode (config: CoreConfig, platform: PeerPlatform, ledger: Ledger, security: NodeSecurity | undefined): PeerChaincode {
  const suite = security === undefined ? undefined : cryptoSuite(config.security.hashAlgorithm, config.security.level)
  // Only an enrolled validator holds the chain's private key, which confidential transactions need.
  const chainKey = security?.self.chain?.privateKey
  const preExecute = suite === undefined ? undefined : (tx: Transaction): Transaction => preExecuteTransaction(suite, tx, chainKey)
  const support = new ChaincodeSupport({
    ledger,
    userRunsChaincode: config.chaincode.mode === 'dev',
    runtime: platform.chaincodeRuntime,
    startupTimeout: config.chaincode.startuptimeout,
    keepalive: config.chaincode.keepalive * 1000,
    scheduler: platform.scheduler,
    networkId: config.peer.networkId,
    peerId: config.peer.id,
    binding: security === undefined ? undefined : tx => transactionBinding(tx, security.verifier),
    confidentiality: suite === undefined || preExecute === undefined
      ? undefined
      : {
          preExecute,
          stateEncryptor: (deployTx, tx) => {
            if (chainKey === undefined) throw new Error('this peer holds no chain private key for a confidential chaincode\'s state')
            return stateEncryptor(suite, chainKey, deployTx, tx)
          }
        }
  })
  return { support, preExecute }
}
