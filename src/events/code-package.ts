import { clone, fromBinary, toBinary } from '@bufbuild/protobuf'
import { ChaincodeDeploymentSpecSchema } from '../protos/chaincode_pb.ts'
import { BlockSchema, Transaction_Type, type Block, type Transaction } from '../protos/fabric_pb.ts'

/**
 * A copy of the block whose deploy transactions carry their ChaincodeDeploymentSpec without
 * the code package, as Fabric hands blocks to REST, Openchain and block events (the package
 * can be large; whoever needs it fetches the transaction). The stored block is not touched.
 * An undecodable deploy payload throws, unless `onUndecodable` takes it (the tx is then kept as is).
 */
export function withoutCodePackages (block: Block, onUndecodable?: (tx: Transaction, err: Error) => void): Block {
  if (!block.transactions.some(tx => tx.type === Transaction_Type.CHAINCODE_DEPLOY)) return block
  const copy = clone(BlockSchema, block)
  for (const tx of copy.transactions) {
    if (tx.type !== Transaction_Type.CHAINCODE_DEPLOY) continue
    let spec
    try {
      spec = fromBinary(ChaincodeDeploymentSpecSchema, tx.payload)
    } catch (err) {
      const e = new Error(`deploy transaction ${tx.txid} has an undecodable payload: ${(err as Error).message}`)
      if (onUndecodable === undefined) throw e
      onUndecodable(tx, e)
      continue
    }
    spec.codePackage = new Uint8Array(0)
    tx.payload = toBinary(ChaincodeDeploymentSpecSchema, spec)
  }
  return copy
}

/**
 * A block as Fabric's GetBlockByNumber hands it to REST and Openchain clients: without code
 * packages; under security.privacy a deploy whose payload is ciphertext gets an empty payload
 * instead of failing the answer.
 */
export function blockForClients (block: Block, privacy: boolean): Block {
  return withoutCodePackages(block, privacy ? tx => { tx.payload = new Uint8Array(0) } : undefined)
}
