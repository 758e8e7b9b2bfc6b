import { create, toBinary } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { utf8 } from '../../src/crypto/bytes.ts'
import { ecdsaVerify } from '../../src/crypto/fabric/ecdsa.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { parseCertificate } from '../../src/crypto/fabric/x509.ts'
import { ConfidentialityLevel } from '../../src/protos/chaincode_pb.ts'
import { TransactionSchema, Transaction_Type } from '../../src/protos/fabric_pb.ts'
import { fabricVerifier } from '../../src/security/fabric-verifier.ts'
import { preValidateTransaction, randomNonce, signTransaction, transactionBinding } from '../../src/security/transactions.ts'
import { seededRandom } from '../../src/util/scheduler.ts'
import { TEST_NOW, TestCA } from '../helpers/test-ca.ts'

const unsigned = () => create(TransactionSchema, {
  type: Transaction_Type.CHAINCODE_INVOKE,
  txid: 'a3b2c1d0-0000-4000-8000-000000000001',
  chaincodeID: utf8('\n\x05mycc'),
  payload: utf8('invocation'),
  nonce: randomNonce(seededRandom(7))
})

for (const [alg, level] of [['SHA3', 256], ['SHA3', 384], ['SHA2', 256]] as const) {
  describe(`transactions under security, ${alg} ${level}`, () => {
    const suite = cryptoSuite(alg, level)
    const ca = new TestCA(suite)
    const verifier = fabricVerifier(suite, ca.roots, () => TEST_NOW)

    it('signs the marshaled transaction carrying the TCert, with the signature field empty, and the validator accepts it', () => {
      const tcert = ca.tcert()
      const tx = signTransaction(unsigned(), tcert)
      expect(tx.cert).toEqual(tcert.cert)
      expect(tx.nonce).toHaveLength(24)
      const covered = toBinary(TransactionSchema, create(TransactionSchema, { ...tx, signature: new Uint8Array(0) }))
      expect(ecdsaVerify(suite, parseCertificate(tcert.cert).publicKey, covered, tx.signature)).toBe(true)
      expect(() => { preValidateTransaction(tx, verifier) }).not.toThrow()
      // An enrollment certificate is accepted too (Fabric tries the TCA pool, then the ECA's).
      expect(() => { preValidateTransaction(signTransaction(unsigned(), ca.ecert('jim')), verifier) }).not.toThrow()
    })

    it('refuses what Fabric refuses, with its messages', () => {
      const tx = signTransaction(unsigned(), ca.tcert())
      expect(() => { preValidateTransaction(unsigned(), verifier) }).toThrow(/^Missing Transaction Certificate\.$/)
      expect(() => { preValidateTransaction({ ...tx, signature: new Uint8Array(0) }, verifier) }).toThrow(/^Missing Transaction Signature\.$/)
      expect(() => { preValidateTransaction({ ...tx, payload: utf8('invocatioN') }, verifier) }).toThrow(/^Invalid Transaction Signature\.$/)
      const sig = tx.signature.slice()
      sig[sig.length - 1] ^= 1
      expect(() => { preValidateTransaction({ ...tx, signature: sig }, verifier) }).toThrow(/^Invalid Transaction Signature\.$/)
      // Another user's TCert with this signer's signature.
      const theirs = ca.tcert()
      expect(() => { preValidateTransaction({ ...tx, cert: theirs.cert }, verifier) }).toThrow(/^Invalid Transaction Signature\.$/)
      // A certificate from a CA this peer does not trust, and one past its validity.
      const foreign = signTransaction(unsigned(), new TestCA(suite).tcert())
      expect(() => { preValidateTransaction(foreign, verifier) }).toThrow('Certificate has not been signed by a trusted authority. [x509: certificate signed by unknown authority]')
      const expired = signTransaction(unsigned(), ca.tcert(undefined, { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2026-02-01T00:00:00Z') }))
      expect(() => { preValidateTransaction(expired, verifier) }).toThrow('Certificate has not been signed by a trusted authority. [x509: certificate has expired or is not yet valid]')
    })

    it('checks only certificate and signature: the confidentiality level is pre-execution\'s to check', () => {
      const confidential = signTransaction(create(TransactionSchema, { ...unsigned(), confidentialityLevel: ConfidentialityLevel.CONFIDENTIAL }), ca.tcert())
      expect(() => { preValidateTransaction(confidential, verifier) }).not.toThrow()
      expect(() => { preValidateTransaction({ ...confidential, signature: new Uint8Array(0) }, verifier) }).toThrow(/^Missing Transaction Signature\.$/)
      expect(() => { preValidateTransaction({ ...confidential, confidentialityLevel: ConfidentialityLevel.PUBLIC }, verifier) }).toThrow(/^Invalid Transaction Signature\.$/)
    })

    it('binds the transaction as the hash of its certificate and nonce', () => {
      const tx = signTransaction(unsigned(), ca.tcert())
      expect(transactionBinding(tx, verifier)).toEqual(suite.hash(new Uint8Array([...tx.cert, ...tx.nonce])))
      expect(transactionBinding(tx, verifier)).toHaveLength(level / 8)
    })
  })
}
