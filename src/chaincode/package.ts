import { create, toBinary } from '@bufbuild/protobuf'
import { computeCryptoHash } from '../crypto/hash.ts'
import { concatBytes, toHex, utf8 } from '../crypto/bytes.ts'
import {
  ChaincodeDeploymentSpecSchema, ChaincodeInputSchema, ChaincodeSpec_Type,
  type ChaincodeDeploymentSpec
} from '../protos/chaincode_pb.ts'

/**
 * A NODE chaincode package (ChaincodeDeploymentSpec.codePackage) is the UTF-8 source of one
 * self-contained ES module (no imports left: bundle it first) exporting init, invoke and query.
 */
export function decodeNodePackage (codePackage: Uint8Array): string {
  if (codePackage.length === 0) throw new Error('NODE chaincode package is empty: it must hold the source of an ES module')
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(codePackage)
  } catch {
    throw new Error('NODE chaincode package is not UTF-8 text: it must hold the source of an ES module')
  }
}

/**
 * Weft's name for a deployed NODE package, the counterpart of Fabric's hash of Go sources and
 * constructor: hex(SHAKE256-64(codePackage ‖ marshaled ChaincodeInput{args})), 128 hex digits.
 * Same package and constructor, same name, on every peer.
 */
export function nodeChaincodeName (codePackage: Uint8Array, ctorArgs: Uint8Array[]): string {
  return toHex(computeCryptoHash(concatBytes(codePackage, toBinary(ChaincodeInputSchema, create(ChaincodeInputSchema, { args: ctorArgs })))))
}

/** What `weft chaincode deploy -p FILE` sends: a NODE deployment spec named by nodeChaincodeName. */
export function nodeDeploymentSpec (source: string | Uint8Array, args: Array<string | Uint8Array>): ChaincodeDeploymentSpec {
  const codePackage = typeof source === 'string' ? utf8(source) : source
  decodeNodePackage(codePackage)
  const ctorArgs = args.map(a => typeof a === 'string' ? utf8(a) : a)
  return create(ChaincodeDeploymentSpecSchema, {
    chaincodeSpec: {
      type: ChaincodeSpec_Type.NODE,
      chaincodeID: { name: nodeChaincodeName(codePackage, ctorArgs) },
      ctorMsg: { args: ctorArgs }
    },
    codePackage
  })
}
