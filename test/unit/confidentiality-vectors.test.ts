// Confidentiality protocol 1.2 against Fabric 0.6.1's Go code, both ways: what Fabric's client
// and validator encrypted, Weft decrypts (and encrypts state to the same bytes); what Weft
// encrypted, Fabric's validator and client decrypted (recorded with Fabric's answers).
import { fromBinary, toBinary } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { fromHex, fromUtf8, toHex, utf8 } from '../../src/crypto/bytes.ts'
import { generateEcKey } from '../../src/crypto/fabric/ec-key.ts'
import { pemToPrivateKey, pemToPublicKey } from '../../src/crypto/fabric/keys.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { ConfidentialityLevel } from '../../src/protos/chaincode_pb.ts'
import { TransactionSchema, type Transaction } from '../../src/protos/fabric_pb.ts'
import { decryptQueryResult, decryptTransaction, encryptTransaction, preExecuteTransaction, stateEncryptor } from '../../src/security/confidentiality.ts'
import fabricToWeft from '../vectors/security/privacy-fabric-to-weft.json'
import weftToFabric from '../vectors/security/privacy-weft-checked-by-fabric.json'

type Kind = 'deploy' | 'invoke' | 'query'
const KINDS: Kind[] = ['deploy', 'invoke', 'query']
const tx = (hex: string): Transaction => fromBinary(TransactionSchema, fromHex(hex))
const withoutToValidators = (t: Transaction): string => toHex(toBinary(TransactionSchema, { ...t, toValidators: new Uint8Array(0) }))

for (const v of fabricToWeft) {
  describe(`Fabric encrypts, Weft decrypts: ${v.hashAlgorithm} ${v.level}`, () => {
    const suite = cryptoSuite(v.hashAlgorithm, v.level)
    const chainKey = pemToPrivateKey(v.chainPrivateKeyPem)
    const enc = (k: Kind): Transaction => tx(v.encrypted[k])
    const dec = (k: Kind): Transaction => decryptTransaction(suite, enc(k), chainKey)

    it('decrypts deploy, invoke and query transactions to what Fabric\'s client encrypted', () => {
      expect(toHex(pemToPublicKey(v.chainPublicKeyPem).point)).toBe(toHex(chainKey.publicKey.point))
      for (const k of KINDS) {
        expect(enc(k).confidentialityLevel).toBe(ConfidentialityLevel.CONFIDENTIAL)
        expect(enc(k).payload).not.toEqual(tx(v.plain[k]).payload)
        expect(withoutToValidators(dec(k))).toBe(v.plain[k])
        expect(withoutToValidators(preExecuteTransaction(suite, enc(k), chainKey))).toBe(v.plain[k])
      }
    })

    it('encrypts state to the bytes Fabric\'s state encryptor writes, and reads Fabric\'s', () => {
      const deploy = stateEncryptor(suite, chainKey, dec('deploy'), dec('deploy'))
      for (const s of v.state.deploy) expect(toHex(deploy.encrypt(utf8(s.plain)))).toBe(s.ciphertext)
      const invoke = stateEncryptor(suite, chainKey, dec('deploy'), dec('invoke'))
      for (const s of v.state.invoke) expect(toHex(invoke.encrypt(utf8(s.plain)))).toBe(s.ciphertext)
      expect(fromUtf8(invoke.decrypt(fromHex(v.state.deploy[0].ciphertext)))).toBe('100')
      const query = stateEncryptor(suite, chainKey, dec('deploy'), dec('query'))
      expect(fromUtf8(query.decrypt(fromHex(v.state.invoke[0].ciphertext)))).toBe('90')
    })

    it('decrypts a query result Fabric\'s validator encrypted, as the querying client', () => {
      expect(fromUtf8(decryptQueryResult(suite, fromHex(v.queryStateKey), enc('query'), fromHex(v.queryResult.ciphertext)))).toBe(v.queryResult.plain)
      // Weft's validator encrypts a result the same client reads.
      const query = stateEncryptor(suite, chainKey, dec('deploy'), dec('query'))
      expect(fromUtf8(decryptQueryResult(suite, fromHex(v.queryStateKey), enc('query'), query.encrypt(utf8('42'))))).toBe('42')
    })

    it('refuses a wrong chain key, tampered ciphertext and an unknown protocol version', () => {
      const other = generateEcKey(suite.curve)
      expect(() => preExecuteTransaction(suite, enc('invoke'), other)).toThrow(/^Failed decrypting confidential transaction: Tag check failed/)
      const tampered = enc('invoke')
      tampered.payload[tampered.payload.length - 40] ^= 1
      expect(() => preExecuteTransaction(suite, tampered, chainKey)).toThrow(/Tag check failed/)
      const version = enc('invoke')
      version.confidentialityProtocolVersion = '1.1'
      expect(() => preExecuteTransaction(suite, version, chainKey)).toThrow(/Invalid protocol version$/)
      expect(() => preExecuteTransaction(suite, enc('invoke'), undefined)).toThrow(/no chain private key/)
      const level = enc('invoke')
      level.confidentialityLevel = 7 as ConfidentialityLevel
      expect(() => preExecuteTransaction(suite, level, chainKey)).toThrow('Invalid confidentiality level')
      const state = fromHex(v.state.invoke[0].ciphertext)
      state[state.length - 1] ^= 1
      expect(() => stateEncryptor(suite, chainKey, dec('deploy'), dec('invoke')).decrypt(state)).toThrow('Decryption failed.')
      const result = fromHex(v.queryResult.ciphertext)
      result[20] ^= 1
      expect(() => decryptQueryResult(suite, fromHex(v.queryStateKey), enc('query'), result)).toThrow('Decryption failed.')
      expect(() => decryptQueryResult(suite, fromHex(v.queryStateKey).map(b => b ^ 1), enc('query'), fromHex(v.queryResult.ciphertext))).toThrow('Decryption failed.')
    })
  })
}

for (const { input: v, fabric } of weftToFabric) {
  describe(`Weft encrypts, Fabric decrypts: ${v.hashAlgorithm} ${v.level}`, () => {
    const suite = cryptoSuite(v.hashAlgorithm, v.level)
    const chainKey = pemToPrivateKey(v.chainPrivateKeyPem)

    it('Fabric\'s validator decrypted Weft\'s transactions to their plaintext, and so does Weft', () => {
      for (const k of KINDS) {
        expect(fabric[k]).toBe(v.plain[k])
        expect(withoutToValidators(decryptTransaction(suite, tx(v.encrypted[k]), chainKey))).toBe(v.plain[k])
      }
    })

    it('Fabric\'s state encryptor read Weft\'s state and wrote the same bytes; Fabric\'s client read Weft\'s query result', () => {
      for (const k of ['deploy', 'invoke'] as const) {
        v.state[k].forEach((s, i) => {
          expect(fabric.state[k][i]).toEqual({ decrypted: s.plain, fabricCiphertext: s.ciphertext })
        })
      }
      expect(fabric.queryResult).toBe(v.queryResult.plain)
      expect(fabric.unknownVersionError).toBe('Invalid protocol version')
    })

    it('Weft encrypts with fresh keys each time: the same transaction never gives the same ciphertext', () => {
      const plain = tx(v.plain.invoke)
      const keys = { chainPublicKey: chainKey.publicKey, queryStateKey: fromHex(v.queryStateKey) }
      const a = encryptTransaction(suite, plain, keys)
      const b = encryptTransaction(suite, plain, keys)
      expect(toHex(a.payload)).not.toBe(toHex(b.payload))
      expect(withoutToValidators(decryptTransaction(suite, b, chainKey))).toBe(v.plain.invoke)
    })
  })
}
