// Runs in the tab: exposes src/crypto/fabric to test/browser/fabric-crypto.test.ts.
import { cbcPkcs7Decrypt } from '../../../src/crypto/fabric/aes.ts'
import { ecdsaSign, ecdsaVerify } from '../../../src/crypto/fabric/ecdsa.ts'
import { eciesDecrypt, eciesEncrypt } from '../../../src/crypto/fabric/ecies.ts'
import { marshalPublicKey, parsePrivateKey, parsePublicKey } from '../../../src/crypto/fabric/keys.ts'
import { cryptoSuite } from '../../../src/crypto/fabric/suite.ts'
import { tcertPrivateKey } from '../../../src/crypto/fabric/tcert.ts'
import { parseCertificate, verifyCertificate } from '../../../src/crypto/fabric/x509.ts'
import { exposeTestApi } from '../page-api.ts'

type Alg = [string, number]

exposeTestApi('fabric-crypto', {
  hash: ([alg, level]: Alg, data: Uint8Array) => cryptoSuite(alg, level).hash(data),
  verify: ([alg, level]: Alg, pubDer: Uint8Array, msg: Uint8Array, sig: Uint8Array) => ecdsaVerify(cryptoSuite(alg, level), parsePublicKey(pubDer), msg, sig),
  sign: ([alg, level]: Alg, privDer: Uint8Array, msg: Uint8Array) => ecdsaSign(cryptoSuite(alg, level), parsePrivateKey(privDer), msg),
  eciesDecrypt: ([alg, level]: Alg, privDer: Uint8Array, ct: Uint8Array) => eciesDecrypt(cryptoSuite(alg, level), parsePrivateKey(privDer), ct),
  eciesEncrypt: ([alg, level]: Alg, pubDer: Uint8Array, plain: Uint8Array) => eciesEncrypt(cryptoSuite(alg, level), parsePublicKey(pubDer), plain),
  aesDecrypt: (key: Uint8Array, ct: Uint8Array) => cbcPkcs7Decrypt(key, ct),
  /** Checks the TCert against its CA at `nowMs` and returns its derived key's public half (PKIX DER). */
  tcertPublicKey: ([alg, level]: Alg, caDer: Uint8Array, enrollDer: Uint8Array, kdfKey: Uint8Array, certDer: Uint8Array, nowMs: number) => {
    const cert = parseCertificate(certDer)
    verifyCertificate(cert, [parseCertificate(caDer)], { now: new Date(nowMs), handledCritical: ['1.2.3.4.5.6.7'] })
    return marshalPublicKey(tcertPrivateKey(cryptoSuite(alg, level), parsePrivateKey(enrollDer), kdfKey, cert).publicKey)
  }
})
