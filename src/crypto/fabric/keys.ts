import { ECPrivateKey, ECParameters } from '@peculiar/asn1-ecc'
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8'
import { AsnConvert, OctetString } from '@peculiar/asn1-schema'
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509'
import { type EcPrivateKey, type EcPublicKey, bigIntFromBytes, privateKeyBytes, privateKeyFromScalar, publicKeyFromPoint, samePublicKey } from './ec-key.ts'
import { decodePem, encodePem } from './pem.ts'
import type { CurveName } from './suite.ts'

const ID_EC_PUBLIC_KEY = '1.2.840.10045.2.1'
const curveOids: Record<CurveName, string> = { 'P-256': '1.2.840.10045.3.1.7', 'P-384': '1.3.132.0.34' }
// the named-curve OID as the DER that goes in AlgorithmIdentifier.parameters
const curveOidDer: Record<CurveName, Uint8Array> = {
  'P-256': Uint8Array.from([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]),
  'P-384': Uint8Array.from([0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22])
}

export const PEM_ECDSA_PRIVATE_KEY = 'ECDSA PRIVATE KEY'
export const PEM_ECDSA_PUBLIC_KEY = 'ECDSA PUBLIC KEY'
export const PEM_AES_PRIVATE_KEY = 'AES PRIVATE KEY'

const bytes = (b: ArrayBuffer | ArrayBufferView): Uint8Array =>
  b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength)

function curveOfOid (oid: string | undefined): CurveName {
  for (const [name, o] of Object.entries(curveOids)) if (o === oid) return name as CurveName
  throw new Error(`unsupported elliptic curve ${oid ?? '(none)'}`)
}

function curveOfParams (params: ArrayBuffer | null | undefined): CurveName {
  if (params == null) throw new Error('EC public key without curve parameters')
  const p = bytes(params)
  for (const [name, der] of Object.entries(curveOidDer)) {
    if (der.length === p.length && der.every((x, i) => x === p[i])) return name as CurveName
  }
  throw new Error('unsupported elliptic curve')
}

/** Go's x509.MarshalPKIXPublicKey for an EC key: SubjectPublicKeyInfo DER. */
export function marshalPublicKey (pub: EcPublicKey): Uint8Array {
  return bytes(AsnConvert.serialize(new SubjectPublicKeyInfo({
    algorithm: new AlgorithmIdentifier({ algorithm: ID_EC_PUBLIC_KEY, parameters: curveOidDer[pub.curve].slice().buffer }),
    subjectPublicKey: pub.point.slice().buffer
  })))
}

/** Go's x509.ParsePKIXPublicKey, for EC keys on P-256 and P-384. */
export function parsePublicKey (der: Uint8Array): EcPublicKey {
  const spki = AsnConvert.parse(der, SubjectPublicKeyInfo)
  if (spki.algorithm.algorithm !== ID_EC_PUBLIC_KEY) throw new Error(`unsupported public key algorithm ${spki.algorithm.algorithm}`)
  return publicKeyFromPoint(curveOfParams(spki.algorithm.parameters), bytes(spki.subjectPublicKey))
}

/** Go's x509.MarshalECPrivateKey (primitives.PrivateKeyToDER): SEC 1 ECPrivateKey with curve and public key. */
export function marshalPrivateKey (key: EcPrivateKey): Uint8Array {
  return bytes(AsnConvert.serialize(new ECPrivateKey({
    version: 1,
    privateKey: new OctetString(privateKeyBytes(key)),
    parameters: new ECParameters({ namedCurve: curveOids[key.curve] }),
    publicKey: key.publicKey.point.slice().buffer
  })))
}

function fromEcPrivateKey (ec: ECPrivateKey, curveFromOuter?: CurveName): EcPrivateKey {
  if (ec.version !== 1) throw new Error(`unknown EC private key version ${ec.version}`)
  const curve = ec.parameters?.namedCurve !== undefined ? curveOfOid(ec.parameters.namedCurve) : curveFromOuter
  if (curve === undefined) throw new Error('EC private key without a named curve')
  const key = privateKeyFromScalar(curve, bigIntFromBytes(bytes(ec.privateKey.buffer)))
  if (ec.publicKey !== undefined && !samePublicKey(key.publicKey, publicKeyFromPoint(curve, bytes(ec.publicKey)))) {
    throw new Error('EC private key does not match its public key')
  }
  return key
}

/** Go's x509.ParseECPrivateKey. */
export function parsePrivateKey (der: Uint8Array): EcPrivateKey {
  return fromEcPrivateKey(AsnConvert.parse(der, ECPrivateKey))
}

/** primitives.DERToPrivateKey for EC keys: PKCS#8-wrapped or plain SEC 1. */
export function derToPrivateKey (der: Uint8Array): EcPrivateKey {
  try {
    const info = AsnConvert.parse(der, PrivateKeyInfo)
    if (info.privateKeyAlgorithm.algorithm === ID_EC_PUBLIC_KEY) {
      return fromEcPrivateKey(AsnConvert.parse(bytes(info.privateKey.buffer), ECPrivateKey), curveOfParams(info.privateKeyAlgorithm.parameters))
    }
  } catch {
    // not PKCS#8: try SEC 1 below
  }
  try {
    return parsePrivateKey(der)
  } catch {
    throw new Error('Failed to parse private key')
  }
}

/** primitives.PrivateKeyToPEM without a password: "ECDSA PRIVATE KEY". */
export function privateKeyToPem (key: EcPrivateKey): string {
  return encodePem(PEM_ECDSA_PRIVATE_KEY, marshalPrivateKey(key))
}

/** primitives.PublicKeyToPEM without a password: "ECDSA PUBLIC KEY". */
export function publicKeyToPem (pub: EcPublicKey): string {
  return encodePem(PEM_ECDSA_PUBLIC_KEY, marshalPublicKey(pub))
}

/** primitives.PEMtoPrivateKey for an unencrypted block (any type label, as Fabric). */
export function pemToPrivateKey (pem: string): EcPrivateKey {
  return derToPrivateKey(unencrypted(pem))
}

/** primitives.PEMtoPublicKey for an unencrypted block. */
export function pemToPublicKey (pem: string): EcPublicKey {
  return parsePublicKey(unencrypted(pem))
}

/** primitives.AEStoPEM: "AES PRIVATE KEY". */
export function aesKeyToPem (key: Uint8Array): string {
  return encodePem(PEM_AES_PRIVATE_KEY, key)
}

/** primitives.PEMtoAES for an unencrypted block. */
export function pemToAesKey (pem: string): Uint8Array {
  return unencrypted(pem)
}

function unencrypted (pem: string): Uint8Array {
  const block = decodePem(pem)
  if (block === undefined) throw new Error('Failed decoding PEM')
  if (block.headers['Proc-Type']?.includes('ENCRYPTED') === true) throw new Error('Encrypted Key. Need a password!!!')
  return block.bytes
}
