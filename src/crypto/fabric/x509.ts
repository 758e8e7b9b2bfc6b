import { AsnConvert, OctetString } from '@peculiar/asn1-schema'
import {
  AlgorithmIdentifier, AttributeTypeAndValue, AttributeValue, BasicConstraints, Certificate, Extension, Extensions,
  Name, RelativeDistinguishedName, SubjectPublicKeyInfo, TBSCertificate, Time, Validity, Version
} from '@peculiar/asn1-x509'
import { sha384 } from '@noble/hashes/sha2.js'
import { equalBytes } from '../bytes.ts'
import { readTlv } from './der.ts'
import { type EcPrivateKey, type EcPublicKey, bigIntFromBytes, bigIntToBytes, samePublicKey } from './ec-key.ts'
import { decodeEcdsaSignature, ecdsaSignDigest, ecdsaVerifyDigest, encodeEcdsaSignature } from './ecdsa.ts'
import { marshalPublicKey, parsePublicKey } from './keys.ts'

/** OIDs of the extensions Fabric puts in its certificates (primitives/x509.go, node_eca.go). */
export const OID_TCERT_ENC_TCERT_INDEX = '1.2.3.4.5.6.7'
export const OID_TCERT_ENC_ENROLLMENT_ID = '1.2.3.4.5.6.8'
export const OID_TCERT_ATTRIBUTES_HEADERS = '1.2.3.4.5.6.9'
/** Attribute n of a TCert is at 1.2.3.4.5.6.(9+n). */
export const OID_TCERT_ATTRIBUTES_BASE = '1.2.3.4.5.6'
export const OID_ECERT_SUBJECT_ROLE = '2.1.3.4.5.6.7'

export const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2'
export const OID_ECDSA_WITH_SHA384 = '1.2.840.10045.4.3.3'
const OID_KEY_USAGE = '2.5.29.15'
const OID_BASIC_CONSTRAINTS = '2.5.29.19'
const OID_SUBJECT_KEY_ID = '2.5.29.14'
const OID_AUTHORITY_KEY_ID = '2.5.29.35'
const OID_CN = '2.5.4.3'
const OID_O = '2.5.4.10'
const OID_C = '2.5.4.6'

/** Go's x509.KeyUsage bits. */
export const KeyUsage = {
  DigitalSignature: 1,
  ContentCommitment: 2,
  KeyEncipherment: 4,
  DataEncipherment: 8,
  KeyAgreement: 16,
  CertSign: 32,
  CRLSign: 64,
  EncipherOnly: 128,
  DecipherOnly: 256
} as const

export interface CertExtension {
  readonly id: string
  readonly critical: boolean
  readonly value: Uint8Array
}

/** The parts of a distinguished name Fabric's CAs write. */
export interface CertName {
  readonly commonName: string
  readonly organization: readonly string[]
  readonly country: readonly string[]
}

export interface FabricCertificate {
  readonly raw: Uint8Array
  readonly rawTbs: Uint8Array
  readonly rawSubject: Uint8Array
  readonly rawIssuer: Uint8Array
  readonly serialNumber: bigint
  readonly subject: CertName
  readonly issuer: CertName
  readonly notBefore: Date
  readonly notAfter: Date
  readonly publicKey: EcPublicKey
  readonly signatureAlgorithm: string
  readonly signature: Uint8Array
  /** Go's KeyUsage bit set (0 when the extension is absent). */
  readonly keyUsage: number
  readonly basicConstraintsValid: boolean
  readonly isCA: boolean
  readonly subjectKeyId?: Uint8Array
  readonly authorityKeyId?: Uint8Array
  readonly extensions: readonly CertExtension[]
}

/** What a Fabric CA puts in a certificate (membersrvc/ca.go newCertificateFromSpec). */
export interface CertificateTemplate {
  readonly serialNumber: bigint
  readonly subject: CertName
  readonly notBefore: Date
  readonly notAfter: Date
  readonly keyUsage: number
  readonly isCA: boolean
  readonly subjectKeyId?: Uint8Array
  /** Appended after the standard ones, in order, as Go's ExtraExtensions. */
  readonly extraExtensions?: readonly CertExtension[]
}

const u8 = (b: ArrayBuffer | ArrayBufferView): Uint8Array =>
  b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
const buf = (b: Uint8Array): ArrayBuffer => b.slice().buffer

// Go's asn1 writes a string as PrintableString when every byte allows it ('*' and '&' do not), else UTF8String.
function goStringValue (s: string): AttributeValue {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s) ? new AttributeValue({ printableString: s }) : new AttributeValue({ utf8String: s })
}

// pkix.Name.ToRDNSequence for C, O and CN: one RDN per attribute type, in that order.
function encodeName (name: CertName): Uint8Array {
  const rdns: RelativeDistinguishedName[] = []
  const add = (oid: string, values: readonly string[]): void => {
    if (values.length > 0) rdns.push(new RelativeDistinguishedName(values.map((v) => new AttributeTypeAndValue({ type: oid, value: goStringValue(v) }))))
  }
  add(OID_C, name.country)
  add(OID_O, name.organization)
  if (name.commonName !== '') add(OID_CN, [name.commonName])
  return u8(AsnConvert.serialize(new Name(rdns)))
}

function decodeName (name: Name): CertName {
  let commonName = ''
  const organization: string[] = []
  const country: string[] = []
  for (const rdn of name) {
    for (const atv of rdn) {
      const v = atv.value.toString()
      if (atv.type === OID_CN) commonName = v
      else if (atv.type === OID_O) organization.push(v)
      else if (atv.type === OID_C) country.push(v)
    }
  }
  return { commonName, organization, country }
}

function derTime (d: Date): Time {
  const t = new Date(Math.floor(d.getTime() / 1000) * 1000)
  const y = t.getUTCFullYear()
  return y >= 1950 && y < 2050 ? new Time({ utcTime: t }) : new Time({ generalTime: t })
}

function reverseBits (b: number): number {
  let r = 0
  for (let i = 0; i < 8; i++) if (b & (1 << i)) r |= 1 << (7 - i)
  return r
}

// Go's marshalKeyUsage: bits reversed per byte, one byte unless bit 8 is set, trailing zero bits unused.
function keyUsageValue (ku: number): Uint8Array {
  const a = [reverseBits(ku & 0xff), reverseBits((ku >> 8) & 0xff)]
  const bytes = a[1] !== 0 ? a : [a[0]]
  let unused = 0
  const last = bytes[bytes.length - 1]
  if (last !== 0) while (((last >> unused) & 1) === 0) unused++
  else unused = 0
  return Uint8Array.from([0x03, bytes.length + 1, unused, ...bytes])
}

function parseKeyUsage (value: Uint8Array): number {
  const t = readTlv(value, 0)
  if (t.tag !== 0x03 || t.value.length < 1) throw new Error('x509: invalid key usage')
  const bits = t.value.subarray(1)
  let ku = 0
  for (let i = 0; i < 9; i++) {
    const byte = i >> 3
    if (byte < bits.length && (bits[byte] & (0x80 >> (i & 7))) !== 0) ku |= 1 << i
  }
  return ku
}

function octetString (b: Uint8Array): Uint8Array {
  return u8(AsnConvert.serialize(new OctetString(b)))
}

function positiveInteger (v: bigint): ArrayBuffer {
  let b = bigIntToBytes(v)
  if (b.length === 0 || (b[0] & 0x80) !== 0) b = Uint8Array.from([0, ...b])
  return buf(b)
}

/**
 * Go's x509.CreateCertificate as Fabric's CAs call it: ECDSA with SHA-384 whatever the security level,
 * key usage (critical), basic constraints (critical), subject key id, authority key id (the parent's
 * subject key id when issuer and subject differ), then the extra extensions.
 * Without a parent the certificate is self-signed.
 */
export function createCertificate (template: CertificateTemplate, parent: FabricCertificate | undefined, publicKey: EcPublicKey, signer: EcPrivateKey): Uint8Array {
  const rawSubject = encodeName(template.subject)
  const rawIssuer = parent === undefined ? rawSubject : parent.rawSubject
  const parentSki = parent === undefined ? template.subjectKeyId : parent.subjectKeyId
  const exts: Extension[] = []
  const std = (id: string, critical: boolean, value: Uint8Array): void => {
    if (template.extraExtensions?.some((e) => e.id === id) === true) return
    exts.push(new Extension({ extnID: id, critical, extnValue: new OctetString(value) }))
  }
  if (template.keyUsage !== 0) std(OID_KEY_USAGE, true, keyUsageValue(template.keyUsage))
  std(OID_BASIC_CONSTRAINTS, true, u8(AsnConvert.serialize(new BasicConstraints({ cA: template.isCA }))))
  if (template.subjectKeyId !== undefined && template.subjectKeyId.length > 0) std(OID_SUBJECT_KEY_ID, false, octetString(template.subjectKeyId))
  if (!equalBytes(rawIssuer, rawSubject) && parentSki !== undefined && parentSki.length > 0) {
    // AuthorityKeyIdentifier { [0] IMPLICIT keyIdentifier }
    std(OID_AUTHORITY_KEY_ID, false, Uint8Array.from([0x30, parentSki.length + 2, 0x80, parentSki.length, ...parentSki]))
  }
  for (const e of template.extraExtensions ?? []) exts.push(new Extension({ extnID: e.id, critical: e.critical, extnValue: new OctetString(e.value) }))

  const sigAlg = new AlgorithmIdentifier({ algorithm: OID_ECDSA_WITH_SHA384 })
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: positiveInteger(template.serialNumber),
    signature: sigAlg,
    issuer: AsnConvert.parse(rawIssuer, Name),
    validity: new Validity(),
    subject: AsnConvert.parse(rawSubject, Name),
    subjectPublicKeyInfo: AsnConvert.parse(marshalPublicKey(publicKey), SubjectPublicKeyInfo),
    extensions: new Extensions(exts)
  })
  tbs.validity.notBefore = derTime(template.notBefore)
  tbs.validity.notAfter = derTime(template.notAfter)
  const rawTbs = u8(AsnConvert.serialize(tbs))
  const signature = encodeEcdsaSignature(ecdsaSignDigest(signer, sha384(rawTbs)))
  const cert = new Certificate({ tbsCertificate: tbs, signatureAlgorithm: sigAlg, signatureValue: buf(signature) })
  cert.tbsCertificateRaw = buf(rawTbs)
  return u8(AsnConvert.serialize(cert))
}

/** Go's x509.ParseCertificate for the EC certificates Fabric issues (primitives.DERToX509Certificate). */
export function parseCertificate (der: Uint8Array): FabricCertificate {
  const outer = readTlv(der, 0)
  if (outer.tag !== 0x30 || outer.end !== der.length) throw new Error('x509: malformed certificate')
  const tbsTlv = readTlv(outer.value, 0)
  // version, serial, signature, issuer, validity, subject: raw issuer and subject bytes matter for chaining
  let p = 0
  const first = readTlv(tbsTlv.value, p)
  if (first.tag === 0xa0) p = first.end
  const serialTlv = readTlv(tbsTlv.value, p)
  const sigTlv = readTlv(tbsTlv.value, serialTlv.end)
  const issuerTlv = readTlv(tbsTlv.value, sigTlv.end)
  const validityTlv = readTlv(tbsTlv.value, issuerTlv.end)
  const subjectTlv = readTlv(tbsTlv.value, validityTlv.end)

  const cert = AsnConvert.parse(der, Certificate)
  const tbs = cert.tbsCertificate
  const serialBytes = u8(tbs.serialNumber)
  if (serialBytes.length > 0 && (serialBytes[0] & 0x80) !== 0) throw new Error('x509: negative serial number')
  const extensions: CertExtension[] = (tbs.extensions ?? []).map((e) => ({ id: e.extnID, critical: e.critical, value: u8(e.extnValue.buffer) }))
  let keyUsage = 0
  let basicConstraintsValid = false
  let isCA = false
  let subjectKeyId: Uint8Array | undefined
  let authorityKeyId: Uint8Array | undefined
  for (const e of extensions) {
    if (e.id === OID_KEY_USAGE) keyUsage = parseKeyUsage(e.value)
    else if (e.id === OID_BASIC_CONSTRAINTS) {
      basicConstraintsValid = true
      isCA = AsnConvert.parse(e.value, BasicConstraints).cA
    } else if (e.id === OID_SUBJECT_KEY_ID) subjectKeyId = readTlv(e.value, 0).value.slice()
    else if (e.id === OID_AUTHORITY_KEY_ID) {
      const seq = readTlv(e.value, 0)
      for (let q = 0; q < seq.value.length;) {
        const t = readTlv(seq.value, q)
        if (t.tag === 0x80) authorityKeyId = t.value.slice()
        q = t.end
      }
    }
  }
  return {
    raw: der,
    rawTbs: tbsTlv.raw,
    rawIssuer: issuerTlv.raw,
    rawSubject: subjectTlv.raw,
    serialNumber: bigIntFromBytes(serialBytes),
    subject: decodeName(tbs.subject),
    issuer: decodeName(tbs.issuer),
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    publicKey: parsePublicKey(u8(AsnConvert.serialize(tbs.subjectPublicKeyInfo))),
    signatureAlgorithm: cert.signatureAlgorithm.algorithm,
    signature: u8(cert.signatureValue),
    keyUsage,
    basicConstraintsValid,
    isCA,
    subjectKeyId,
    authorityKeyId,
    extensions
  }
}

/** The value of an extension (primitives.GetCriticalExtension, which finds non-critical ones too). */
export function getExtension (cert: FabricCertificate, oid: string): Uint8Array {
  const e = cert.extensions.find((x) => x.id === oid)
  if (e === undefined) throw new Error('Failed retrieving extension.')
  return e.value
}

const digestFor: Record<string, (b: Uint8Array) => Uint8Array> = {
  [OID_ECDSA_WITH_SHA384]: (b) => sha384(b)
}

/** Whether `parent`'s key signed `cert` (Go's CheckSignatureFrom, for ECDSA with SHA-384 as Fabric's CAs sign). */
export function checkSignatureFrom (cert: FabricCertificate, parent: FabricCertificate): boolean {
  if (!parent.basicConstraintsValid || !parent.isCA) return false
  if (parent.keyUsage !== 0 && (parent.keyUsage & KeyUsage.CertSign) === 0) return false
  const digest = digestFor[cert.signatureAlgorithm]
  if (digest === undefined) return false
  try {
    return ecdsaVerifyDigest(parent.publicKey, digest(cert.rawTbs), decodeEcdsaSignature(cert.signature))
  } catch {
    return false
  }
}

export interface VerifyOptions {
  /** The time the validity periods are checked at. */
  readonly now: Date
  /** Critical extensions the caller has dealt with (Fabric takes the TCert index and ECert role off this way). */
  readonly handledCritical?: readonly string[]
}

const knownCritical = new Set([OID_KEY_USAGE, OID_BASIC_CONSTRAINTS])

/**
 * primitives.CheckCertAgainRoot: `cert` must be signed directly by one of `roots`, both in their
 * validity period, and carry no critical extension nobody handled. Throws with the reason.
 */
export function verifyCertificate (cert: FabricCertificate, roots: readonly FabricCertificate[], opts: VerifyOptions): FabricCertificate {
  const unhandled = cert.extensions.filter((e) => e.critical && !knownCritical.has(e.id) && opts.handledCritical?.includes(e.id) !== true)
  if (unhandled.length > 0) throw new Error(`x509: unhandled critical extension ${unhandled[0].id}`)
  const inPeriod = (c: FabricCertificate): boolean => opts.now >= c.notBefore && opts.now <= c.notAfter
  if (!inPeriod(cert)) throw new Error('x509: certificate has expired or is not yet valid')
  for (const root of roots) {
    if (!equalBytes(root.rawSubject, cert.rawIssuer)) continue
    if (!checkSignatureFrom(cert, root)) continue
    if (!inPeriod(root)) throw new Error('x509: issuer certificate has expired or is not yet valid')
    return root
  }
  throw new Error('x509: certificate signed by unknown authority')
}

/** primitives.CheckCertPKAgainstSK. */
export function certMatchesPrivateKey (cert: FabricCertificate, key: EcPrivateKey): boolean {
  return samePublicKey(cert.publicKey, key.publicKey)
}
