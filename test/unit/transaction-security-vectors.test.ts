// Transactions signed by Fabric 0.6.1's own code (test/vectors/security/fabric-signed-transactions.json):
// Weft covers the same bytes with the signature, accepts Fabric's signature with the TCert its TCA
// issued, refuses it once anything changes, and binds the transaction as Fabric does.
import { fromBinary } from '@bufbuild/protobuf'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fromHex } from '../../src/crypto/bytes.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { TransactionSchema } from '../../src/protos/fabric_pb.ts'
import { fabricVerifier } from '../../src/security/fabric-verifier.ts'
import { preValidateTransaction, signedTransactionBytes, transactionBinding } from '../../src/security/transactions.ts'
import { TEST_NOW } from '../helpers/test-ca.ts'

interface Vector { hashAlgorithm: string, level: number, tcaCert: string, tx: string, signed: string, binding: string }
const { vectors } = JSON.parse(readFileSync(new URL('../vectors/security/fabric-signed-transactions.json', import.meta.url), 'utf8')) as { vectors: Vector[] }

describe.each(vectors)('a transaction Fabric signed at $hashAlgorithm $level', v => {
  const suite = cryptoSuite(v.hashAlgorithm, v.level)
  const verifier = fabricVerifier(suite, { tca: [fromHex(v.tcaCert)], eca: [] }, () => TEST_NOW)
  const tx = fromBinary(TransactionSchema, fromHex(v.tx))

  it('is signed over the bytes Weft signs, and verifies', () => {
    expect(signedTransactionBytes(tx)).toEqual(fromHex(v.signed))
    expect(() => { preValidateTransaction(tx, verifier) }).not.toThrow()
    expect(transactionBinding(tx, verifier)).toEqual(fromHex(v.binding))
  })

  it('is refused once its payload, nonce or metadata changes', () => {
    for (const changed of [{ payload: tx.payload.slice(1) }, { nonce: tx.nonce.slice(1) }, { metadata: new Uint8Array(0) }]) {
      expect(() => { preValidateTransaction({ ...tx, ...changed }, verifier) }).toThrow(/^Invalid Transaction Signature\.$/)
    }
  })
})
