// Transactions under security.enabled, as Fabric 0.6.1's crypto client and validator do them:
// the submitter's TCert in Transaction.cert, a signature over the marshaled transaction (with
// its signature field empty) by the TCert's key, and the checks a validator makes before execution.
import { clone, create, toBinary } from '@bufbuild/protobuf'
import { TransactionSchema, type Transaction } from '../protos/fabric_pb.ts'
import { NONCE_SIZE } from '../crypto/fabric/suite.ts'
import type { Random } from '../util/scheduler.ts'
import type { CertificateVerifier, CertifiedKey } from './member.ts'

/** primitives.GetRandomNonce, from the platform's randomness. */
export function randomNonce (random: Random): Uint8Array {
  return Uint8Array.from({ length: NONCE_SIZE }, () => Math.floor(random() * 256))
}

/** A copy of `tx` carrying `tcert` and its signature (Fabric's new…UsingTCert). */
export function signTransaction (tx: Transaction, tcert: CertifiedKey): Transaction {
  const signed = clone(TransactionSchema, tx)
  signed.cert = tcert.cert
  signed.signature = new Uint8Array(0)
  signed.signature = tcert.sign(toBinary(TransactionSchema, signed))
  return signed
}

/** The bytes a transaction's signature covers. */
export function signedTransactionBytes (tx: Transaction): Uint8Array {
  return toBinary(TransactionSchema, create(TransactionSchema, { ...tx, signature: new Uint8Array(0) }))
}

/**
 * Fabric's TransactionPreValidation: throws with Fabric's message when the certificate is
 * missing, was not issued by the TCA or ECA, or the signature is missing or does not verify.
 */
export function preValidateTransaction (tx: Transaction, verifier: CertificateVerifier): void {
  if (tx.cert.length === 0) throw new Error('Missing Transaction Certificate.')
  if (tx.signature.length === 0) throw new Error('Missing Transaction Signature.')
  try {
    verifier.checkIssued(tx.cert)
  } catch (err) {
    throw new Error(`Certificate has not been signed by a trusted authority. [${(err as Error).message}]`)
  }
  if (!verifier.verify(tx.cert, signedTransactionBytes(tx), tx.signature)) throw new Error('Invalid Transaction Signature.')
}

/** GetTransactionBinding: the hash of the certificate followed by the nonce. */
export function transactionBinding (tx: Transaction, verifier: CertificateVerifier): Uint8Array {
  const data = new Uint8Array(tx.cert.length + tx.nonce.length)
  data.set(tx.cert)
  data.set(tx.nonce, tx.cert.length)
  return verifier.hash(data)
}
