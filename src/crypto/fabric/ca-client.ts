import { create, toBinary } from '@bufbuild/protobuf'
import {
  CryptoType, ECertCreateReqSchema, ECertReadReqSchema, EmptySchema, FetchAttrsResult_StatusCode, IdentitySchema,
  PublicKeySchema, type Signature, SignatureSchema, TCertAttributeSchema, TCertCreateSetReqSchema, TLSCertCreateReqSchema, TokenSchema
} from '../../protos/ca_pb.ts'
import { errorMessage } from '../../util/errors.ts'
import { createLogger } from '../../util/logger.ts'
import { toHex, utf8 } from '../bytes.ts'
import type { CaRpc } from './ca-rpc.ts'
import { type EcPrivateKey, type RandomBytes, cryptoRandomBytes, generateEcKey } from './ec-key.ts'
import { bigIntText, ecdsaSignDirect } from './ecdsa.ts'
import { eciesDecrypt } from './ecies.ts'
import { marshalPublicKey } from './keys.ts'
import type { CryptoSuite } from './suite.ts'
import { tcertPrivateKey } from './tcert.ts'
import {
  type FabricCertificate, OID_ECERT_SUBJECT_ROLE, OID_TCERT_ENC_TCERT_INDEX, certMatchesPrivateKey, getExtension, parseCertificate, verifyCertificate
} from './x509.ts'

const log = createLogger('crypto')

/** What enrolling with the ECA gives a node (what Fabric's node keeps in its keystore). */
export interface Enrollment {
  readonly enrollId: string
  /** The enrollment (signing) key; its certificate is the ECert. */
  readonly signKey: EcPrivateKey
  /** The encryption key of the pair; the ECA's challenge came encrypted to it. */
  readonly encKey: EcPrivateKey
  readonly ecert: FabricCertificate
  readonly encCert: FabricCertificate
  readonly ecaCert: FabricCertificate
  /** The ECA's chain key (Pkchain): a PEM private key for validators, a PEM public key for others. */
  readonly chainKey: Uint8Array
  /** The ECA's AES chain key (Chain.Tok), for confidentiality. */
  readonly chainSecret: Uint8Array
  /** The role the ECA wrote in the ECert's 2.1.3.4.5.6.7 extension (1 client, 2 peer, 4 validator, 8 auditor). */
  readonly role: number
}

export interface TCertWithKey {
  readonly cert: FabricCertificate
  readonly privateKey: EcPrivateKey
  /** The auditor's PreK0 for this TCert, as the TCA sends it. */
  readonly preK0: Uint8Array
}

export interface TCertBatch {
  /** The owner's TCertOwnerKDFKey: the same for every batch of one enrollment key. */
  readonly kdfKey: Uint8Array
  readonly tcerts: readonly TCertWithKey[]
}

export interface TlsCredentials {
  readonly key: EcPrivateKey
  readonly cert: FabricCertificate
  readonly rootCert: FabricCertificate
}

export interface CaClientOptions {
  readonly suite: CryptoSuite
  readonly rpc: CaRpc
  /** Wall clock in milliseconds (the node's Scheduler.now). */
  readonly now: () => number
  readonly random?: RandomBytes
}

function timestamp (seconds: bigint, nanos = 0): { seconds: bigint, nanos: number } {
  return { seconds, nanos }
}

/** A random (version 4) UUID, as Fabric's util.GenerateUUID. */
function uuid4 (random: RandomBytes): string {
  const b = random(16)
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const h = toHex(b)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/**
 * A node's side of membership services (core/crypto node_eca.go, client_tca.go, node_tlsca.go):
 * enrolment with the two-phase CreateCertificatePair, TCert batches with their keys derived, TLS
 * certificates. Requests are built and signed as Fabric's client builds and signs them.
 */
export class CaClient {
  private readonly suite: CryptoSuite
  private readonly rpc: CaRpc
  private readonly now: () => number
  private readonly random: RandomBytes

  constructor (opts: CaClientOptions) {
    this.suite = opts.suite
    this.rpc = opts.rpc
    this.now = opts.now
    this.random = opts.random ?? cryptoRandomBytes
  }

  async readEcaCertificate (): Promise<FabricCertificate> {
    return parseCertificate((await this.rpc.ecap.readCACertificate(create(EmptySchema))).cert)
  }

  async readTcaCertificate (): Promise<FabricCertificate> {
    return parseCertificate((await this.rpc.tcap.readCACertificate(create(EmptySchema))).cert)
  }

  async readTlscaCertificate (): Promise<FabricCertificate> {
    return parseCertificate((await this.rpc.tlscap.readCACertificate(create(EmptySchema))).cert)
  }

  /** The ECert pair the ECA holds for an enrollment ID (ECAP.ReadCertificatePair). */
  async readCertificatePair (enrollId: string): Promise<{ sign: FabricCertificate, enc: FabricCertificate }> {
    const pair = await this.rpc.ecap.readCertificatePair(create(ECertReadReqSchema, { id: { id: enrollId } }))
    return { sign: parseCertificate(pair.sign), enc: parseCertificate(pair.enc) }
  }

  /**
   * Enrols: sends the two new public keys with the secret, decrypts the ECA's challenge with the
   * encryption key, sends it back signed with the signing key, and checks both certificates
   * against the ECA's (and that they certify the keys sent).
   */
  async enroll (enrollId: string, secret: string): Promise<Enrollment> {
    const ecaCert = await this.readEcaCertificate()
    const signKey = generateEcKey(this.suite.curve, this.random)
    const encKey = generateEcKey(this.suite.curve, this.random)
    const req = create(ECertCreateReqSchema, {
      ts: timestamp(BigInt(Math.floor(this.now() / 1000))),
      id: create(IdentitySchema, { id: enrollId }),
      tok: create(TokenSchema, { tok: utf8(secret) }),
      sign: create(PublicKeySchema, { type: CryptoType.ECDSA, key: marshalPublicKey(signKey.publicKey) }),
      enc: create(PublicKeySchema, { type: CryptoType.ECDSA, key: marshalPublicKey(encKey.publicKey) })
    })
    const challenge = await this.rpc.ecap.createCertificatePair(req)
    if (challenge.tok === undefined) throw new Error('the ECA sent no challenge')
    req.tok = create(TokenSchema, { tok: eciesDecrypt(this.suite, encKey, challenge.tok.tok) })
    req.sig = this.signature(signKey, toBinary(ECertCreateReqSchema, req))
    const resp = await this.rpc.ecap.createCertificatePair(req)
    if (resp.fetchResult !== undefined && resp.fetchResult.status !== FetchAttrsResult_StatusCode.SUCCESS) log.warn(resp.fetchResult.Msg)
    if (resp.certs === undefined) throw new Error('the ECA sent no certificates')
    const now = new Date(this.now())
    const checked = (der: Uint8Array, key: EcPrivateKey): FabricCertificate => {
      const cert = parseCertificate(der)
      getExtension(cert, OID_ECERT_SUBJECT_ROLE)
      if (!certMatchesPrivateKey(cert, key)) throw new Error('Private key does not match public key')
      verifyCertificate(cert, [ecaCert], { now, handledCritical: [OID_ECERT_SUBJECT_ROLE] })
      return cert
    }
    const ecert = checked(resp.certs.sign, signKey)
    const encCert = checked(resp.certs.enc, encKey)
    const role = Number(new TextDecoder().decode(getExtension(ecert, OID_ECERT_SUBJECT_ROLE)))
    return { enrollId, signKey, encKey, ecert, encCert, ecaCert, chainKey: resp.pkchain, chainSecret: resp.chain?.tok ?? new Uint8Array(), role }
  }

  /**
   * Asks the TCA for `num` TCerts (TCAP.CreateCertificateSet, signed with the enrollment key) and
   * derives each one's private key. As Fabric's client, a TCert that does not verify against the
   * TCA or whose key does not derive is left out, and a batch with none left is an error.
   */
  async getTCerts (enrollId: string, signKey: EcPrivateKey, num: number, opts: { attributes?: readonly string[], tcaCert?: FabricCertificate, kdfKey?: Uint8Array } = {}): Promise<TCertBatch> {
    const tcaCert = opts.tcaCert ?? await this.readTcaCertificate()
    const ms = this.now()
    // Fabric's client sends the seconds within the minute (time.Now().Second()) and the nanoseconds
    const req = create(TCertCreateSetReqSchema, {
      ts: timestamp(BigInt(Math.floor(ms / 1000) % 60), (ms % 1000) * 1_000_000),
      id: create(IdentitySchema, { id: enrollId }),
      num,
      attributes: (opts.attributes ?? []).map((attributeName) => create(TCertAttributeSchema, { attributeName }))
    })
    req.sig = this.signature(signKey, toBinary(TCertCreateSetReqSchema, req))
    const resp = await this.rpc.tcap.createCertificateSet(req)
    if (resp.certs === undefined) throw new Error('the TCA sent no certificate set')
    const kdfKey = resp.certs.key
    if (opts.kdfKey !== undefined && toHex(opts.kdfKey) !== toHex(kdfKey)) throw new Error('Failed reciving kdf key from TCA. The keys are different.')
    const now = new Date(ms)
    const tcerts: TCertWithKey[] = []
    for (const t of resp.certs.certs.slice(0, num)) {
      try {
        const cert = parseCertificate(t.cert)
        verifyCertificate(cert, [tcaCert], { now, handledCritical: [OID_TCERT_ENC_TCERT_INDEX] })
        tcerts.push({ cert, privateKey: tcertPrivateKey(this.suite, signKey, kdfKey, cert), preK0: t.prek0 })
      } catch (err) {
        log.warn(`left out a TCert of the batch: ${errorMessage(err)}`)
      }
    }
    if (tcerts.length === 0) throw new Error('No valid TCert was sent.')
    return { kdfKey, tcerts }
  }

  /** A TLS certificate for a fresh key, from TLSCAP.CreateCertificate under the id "<id>-<uuid>" as Fabric's node asks. */
  async getTlsCertificate (id: string): Promise<TlsCredentials> {
    const key = generateEcKey(this.suite.curve, this.random)
    const ms = this.now()
    const req = create(TLSCertCreateReqSchema, {
      ts: timestamp(BigInt(Math.floor(ms / 1000) % 60), (ms % 1000) * 1_000_000),
      id: create(IdentitySchema, { id: `${id}-${uuid4(this.random)}` }),
      pub: create(PublicKeySchema, { type: CryptoType.ECDSA, key: marshalPublicKey(key.publicKey) })
    })
    req.sig = this.signature(key, toBinary(TLSCertCreateReqSchema, req))
    const resp = await this.rpc.tlscap.createCertificate(req)
    if (resp.cert === undefined || resp.rootCert === undefined) throw new Error('the TLS CA sent no certificate')
    const cert = parseCertificate(resp.cert.cert)
    if (!certMatchesPrivateKey(cert, key)) throw new Error('Private key does not match public key')
    return { key, cert, rootCert: parseCertificate(resp.rootCert.cert) }
  }

  // membersrvc's request signature: ECDSA over the suite's hash of the request marshalled without it, R and S in decimal
  private signature (key: EcPrivateKey, raw: Uint8Array): Signature {
    const { r, s } = ecdsaSignDirect(this.suite, key, raw)
    return create(SignatureSchema, { type: CryptoType.ECDSA, r: bigIntText(r), s: bigIntText(s) })
  }
}
