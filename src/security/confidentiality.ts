// Fabric 0.6.1's confidentiality protocol 1.2 (security.privacy): the client encrypts a
// transaction's chaincode id, payload and metadata to a fresh key it sends to the validators
// under the ECA's chain key; validators decrypt before execution, keep a confidential
// chaincode's state under keys derived from its deploy transaction, and encrypt query results
// to a key only the querying client can derive.
import { clone } from '@bufbuild/protobuf'
import { gcm } from '@noble/ciphers/aes.js'
import { concatBytes, equalBytes } from '../crypto/bytes.ts'
import { readTlv } from '../crypto/fabric/der.ts'
import { cryptoRandomBytes, generateEcKey, type EcPrivateKey, type EcPublicKey, type RandomBytes } from '../crypto/fabric/ec-key.ts'
import { eciesDecrypt, eciesEncrypt } from '../crypto/fabric/ecies.ts'
import { marshalPrivateKey, parsePrivateKey } from '../crypto/fabric/keys.ts'
import { AES_KEY_LENGTH, NONCE_SIZE, type CryptoSuite } from '../crypto/fabric/suite.ts'
import { ConfidentialityLevel } from '../protos/chaincode_pb.ts'
import { TransactionSchema, Transaction_Type, type Transaction } from '../protos/fabric_pb.ts'

/** The only version Fabric 0.6.1 speaks (security.confidentialityProtocolVersion). */
export const CONFIDENTIALITY_PROTOCOL_VERSION = '1.2'

const GCM_NONCE_SIZE = 12

/** What a client encrypts with: the ECA's chain public key, and its own query state key (query.key). */
export interface ClientChainKeys {
  chainPublicKey: EcPublicKey
  queryStateKey: Uint8Array
}

/** Fabric's StateEncryptor: one per transaction and chaincode. */
export interface StateEncryptor {
  encrypt (plain: Uint8Array): Uint8Array
  decrypt (ciphertext: Uint8Array): Uint8Array
}

// Fabric's own error texts (core/crypto/utils/errs.go).
const ERR_INVALID_PROTOCOL_VERSION = 'Invalid protocol version'
const ERR_INVALID_CONFIDENTIALITY_LEVEL = 'Invalid confidentiality level'
const ERR_DECRYPT = 'Decryption failed.'

function derLength (n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n)
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
  return Uint8Array.of(0x80 | bytes.length, ...bytes)
}

function derTlv (tag: number, value: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(tag), derLength(value.length), value)
}

/** chainCodeValidatorMessage1_2 as Go's asn1.Marshal writes it: SEQUENCE { OCTET STRING PrivateKey, OCTET STRING StateKey }. */
function validatorMessage (privateKey: Uint8Array, stateKey: Uint8Array): Uint8Array {
  return derTlv(0x30, concatBytes(derTlv(0x04, privateKey), derTlv(0x04, stateKey)))
}

function parseValidatorMessage (der: Uint8Array): { privateKey: Uint8Array, stateKey: Uint8Array } {
  const seq = readTlv(der, 0)
  if (seq.tag !== 0x30) throw new Error('asn1: structure error: the message to validators is not a SEQUENCE')
  const priv = readTlv(seq.value, 0)
  const state = readTlv(seq.value, priv.end)
  if (priv.tag !== 0x04 || state.tag !== 0x04) throw new Error('asn1: structure error: the message to validators does not hold two OCTET STRINGs')
  return { privateKey: priv.value, stateKey: state.value }
}

/** The AES key of a confidential query's result (client and validator derive it alike). */
function queryKey (suite: CryptoSuite, queryStateKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  return suite.hmacAESTruncated(queryStateKey, concatBytes(Uint8Array.of(6), nonce))
}

/**
 * The client's encryptTx (protocol 1.2): a copy of `tx` marked CONFIDENTIAL whose chaincode id,
 * payload and metadata are encrypted to a fresh key pair; the pair's private key (and, for a
 * deploy, a fresh state key; for a query, the key of its result) go to the validators under
 * the chain key. The caller signs the result.
 */
export function encryptTransaction (suite: CryptoSuite, tx: Transaction, keys: ClientChainKeys, random: RandomBytes = cryptoRandomBytes): Transaction {
  if (tx.nonce.length === 0) throw new Error('Failed encrypting payload. Invalid nonce.')
  const out = clone(TransactionSchema, tx)
  out.confidentialityLevel = ConfidentialityLevel.CONFIDENTIAL
  out.confidentialityProtocolVersion = CONFIDENTIALITY_PROTOCOL_VERSION
  const txKey = generateEcKey(suite.curve, random)
  let stateKey: Uint8Array
  switch (tx.type) {
    case Transaction_Type.CHAINCODE_DEPLOY: stateKey = random(AES_KEY_LENGTH); break
    case Transaction_Type.CHAINCODE_QUERY: stateKey = queryKey(suite, keys.queryStateKey, tx.nonce); break
    default: stateKey = new Uint8Array(0)
  }
  out.toValidators = eciesEncrypt(suite, keys.chainPublicKey, validatorMessage(marshalPrivateKey(txKey), stateKey), random)
  out.chaincodeID = eciesEncrypt(suite, txKey.publicKey, tx.chaincodeID, random)
  out.payload = eciesEncrypt(suite, txKey.publicKey, tx.payload, random)
  if (tx.metadata.length > 0) out.metadata = eciesEncrypt(suite, txKey.publicKey, tx.metadata, random)
  return out
}

function messageToValidators (suite: CryptoSuite, tx: Transaction, chainKey: EcPrivateKey): { privateKey: Uint8Array, stateKey: Uint8Array } {
  return parseValidatorMessage(eciesDecrypt(suite, chainKey, tx.toValidators))
}

/** The validator's deepCloneAndDecryptTx: a decrypted copy; `tx` is left as it is (it goes into the block). */
export function decryptTransaction (suite: CryptoSuite, tx: Transaction, chainKey: EcPrivateKey): Transaction {
  if (tx.confidentialityProtocolVersion !== CONFIDENTIALITY_PROTOCOL_VERSION) throw new Error(ERR_INVALID_PROTOCOL_VERSION)
  if (tx.nonce.length === 0) throw new Error('Failed decrypting payload. Invalid nonce.')
  const txKey = parsePrivateKey(messageToValidators(suite, tx, chainKey).privateKey)
  const out = clone(TransactionSchema, tx)
  out.payload = eciesDecrypt(suite, txKey, tx.payload)
  out.chaincodeID = eciesDecrypt(suite, txKey, tx.chaincodeID)
  if (tx.metadata.length > 0) out.metadata = eciesDecrypt(suite, txKey, tx.metadata)
  return out
}

/**
 * The validator's TransactionPreExecution: a public transaction runs as it is, a confidential
 * one decrypted (a peer without the chain's private key cannot), anything else is refused.
 */
export function preExecuteTransaction (suite: CryptoSuite, tx: Transaction, chainKey: EcPrivateKey | undefined): Transaction {
  switch (tx.confidentialityLevel) {
    case ConfidentialityLevel.PUBLIC: return tx
    case ConfidentialityLevel.CONFIDENTIAL:
      if (chainKey === undefined) throw new Error('Failed decrypting confidential transaction: this peer holds no chain private key (only enrolled validators do)')
      try {
        return decryptTransaction(suite, tx, chainKey)
      } catch (err) {
        throw new Error(`Failed decrypting confidential transaction: ${(err as Error).message}`)
      }
    default: throw new Error(ERR_INVALID_CONFIDENTIALITY_LEVEL)
  }
}

function open (key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array {
  try {
    return gcm(key, nonce, aad).decrypt(sealed)
  } catch {
    throw new Error(ERR_DECRYPT)
  }
}

/** Reads state written by any transaction of the chaincode: its key follows from the nonce it carries. */
function stateDecrypt (suite: CryptoSuite, deployTxKey: Uint8Array, raw: Uint8Array): Uint8Array {
  if (raw.length === 0) return raw
  if (raw.length <= NONCE_SIZE + GCM_NONCE_SIZE) throw new Error(ERR_DECRYPT)
  const txNonce = raw.subarray(0, NONCE_SIZE)
  const ct = raw.subarray(NONCE_SIZE)
  const key = suite.hmacTruncated(deployTxKey, concatBytes(Uint8Array.of(3), txNonce), AES_KEY_LENGTH)
  return open(key, ct.subarray(0, GCM_NONCE_SIZE), ct.subarray(GCM_NONCE_SIZE), txNonce)
}

/**
 * The validator's GetStateEncryptor for a chaincode deployed by `deployTx` and run by
 * `executeTx` (both decrypted): deploys and invokes write state as executeTxNonce ‖ GCM nonce ‖
 * ciphertext, the GCM nonce counting up from 0 per encryptor; a query reads state the same way
 * and encrypts its result to the client's query key with a random nonce.
 */
export function stateEncryptor (suite: CryptoSuite, chainKey: EcPrivateKey, deployTx: Transaction, executeTx: Transaction, random: RandomBytes = cryptoRandomBytes): StateEncryptor {
  if (executeTx.confidentialityProtocolVersion !== CONFIDENTIALITY_PROTOCOL_VERSION) throw new Error(ERR_INVALID_CONFIDENTIALITY_LEVEL)
  if (deployTx.nonce.length === 0) throw new Error('Invalid deploy nonce.')
  if (executeTx.nonce.length === 0) throw new Error('Invalid invoke nonce.')
  if (!equalBytes(deployTx.chaincodeID, executeTx.chaincodeID)) throw new Error('ChaincodeIDs are different.')
  if (deployTx.confidentialityProtocolVersion !== executeTx.confidentialityProtocolVersion) throw new Error('Confidentiality protocol versions are different.')
  const deployTxKey = suite.hmac(messageToValidators(suite, deployTx, chainKey).stateKey, deployTx.nonce)
  if (executeTx.type === Transaction_Type.CHAINCODE_QUERY) {
    const resultKey = messageToValidators(suite, executeTx, chainKey).stateKey
    return {
      encrypt: plain => {
        const nonce = random(GCM_NONCE_SIZE)
        return concatBytes(nonce, gcm(resultKey, nonce).encrypt(plain))
      },
      decrypt: raw => stateDecrypt(suite, deployTxKey, raw)
    }
  }
  const executeTxNonce = suite.hmacTruncated(deployTxKey, suite.hash(executeTx.nonce), NONCE_SIZE)
  const stateKey = suite.hmacTruncated(deployTxKey, concatBytes(Uint8Array.of(3), executeTxNonce), AES_KEY_LENGTH)
  const nonceStateKey = suite.hmac(deployTxKey, concatBytes(Uint8Array.of(4), executeTxNonce))
  let counter = 0n
  return {
    encrypt: plain => {
      const count = new Uint8Array(8)
      new DataView(count.buffer).setBigUint64(0, counter++)
      const nonce = suite.hmacTruncated(nonceStateKey, count, GCM_NONCE_SIZE)
      return concatBytes(executeTxNonce, nonce, gcm(stateKey, nonce, executeTxNonce).encrypt(plain))
    },
    decrypt: raw => stateDecrypt(suite, deployTxKey, raw)
  }
}

/** The client's DecryptQueryResult: what a validator encrypted to the query's result key. */
export function decryptQueryResult (suite: CryptoSuite, queryStateKey: Uint8Array, queryTx: Transaction, ciphertext: Uint8Array): Uint8Array {
  if (queryTx.confidentialityProtocolVersion !== CONFIDENTIALITY_PROTOCOL_VERSION) throw new Error(ERR_INVALID_PROTOCOL_VERSION)
  if (ciphertext.length <= NONCE_SIZE) throw new Error(ERR_DECRYPT)
  return open(queryKey(suite, queryStateKey, queryTx.nonce), ciphertext.subarray(0, GCM_NONCE_SIZE), ciphertext.subarray(GCM_NONCE_SIZE))
}
