import { create, toBinary } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import { equalBytes, utf8 } from '../crypto/bytes.ts'
import { generateEcKey, type EcPublicKey } from '../crypto/fabric/ec-key.ts'
import { eciesEncrypt } from '../crypto/fabric/ecies.ts'
import { marshalPrivateKey, marshalPublicKey, parsePrivateKey, parsePublicKey } from '../crypto/fabric/keys.ts'
import { encodePem } from '../crypto/fabric/pem.ts'
import {
  ACAFetchAttrReqSchema, ACAFetchAttrResp_StatusCode, CAStatusSchema, CAStatus_StatusCode, CertPairSchema, CertSchema, CryptoType, ECertCreateReqSchema, ECertCreateRespSchema,
  ECertRevokeReqSchema, FetchAttrsResultSchema, FetchAttrsResult_StatusCode, ReadUserSetReqSchema, RegisterUserReqSchema,
  Role, TokenSchema, UserSchema, UserSetSchema,
  type CAStatus, type Cert, type CertPair, type ECertCreateReq, type ECertCreateResp, type ECertCRLReq, type ECertReadReq,
  type ECertRevokeReq, type Empty, type FetchAttrsResult, type Hash, type ReadUserSetReq, type RegisterUserReq, type Token, type UserSet
} from '../protos/ca_pb.ts'
import { createLogger } from '../util/logger.ts'
import { parseAttributeEntry, type ACA } from './aca.ts'
import { openAuthority, type Authority } from './authority.ts'
import { KeyUsage, OID_ECERT_SUBJECT_ROLE, parseCertificate, type FabricCertificate } from '../crypto/fabric/x509.ts'
import { defaultValidity, issueCertificate } from './certificates.ts'
import { parsed, required, type CaContext } from './context.ts'
import { CaError } from './errors.ts'
import { checkCanRegister } from './roles.ts'
import { verifySignedRequest } from './signed-request.ts'
import { UserState, type CertificateRecord, type UserRecord } from './store.ts'
import { randomToken, registerUser } from './users.ts'

const log = createLogger('eca')

/** An enrolled member's signing ECert, checked to be usable. */
export interface SigningCertificate {
  record: CertificateRecord
  cert: FabricCertificate
}

/**
 * The enrollment certificate authority: ECAP (enrollment in two phases, reading certificates)
 * and ECAA (registering users, listing them, revoking ECerts) over the users table.
 */
export class ECA {
  private constructor (
    private readonly ctx: CaContext,
    readonly authority: Authority,
    /** obc.aes: the chain key every enrolled member receives. */
    private readonly chainKey: Uint8Array,
    /** obc.ecies as PEM: validators receive the private key, everyone else the public one. */
    private readonly chainPrivPem: Uint8Array,
    private readonly chainPubPem: Uint8Array,
    private readonly aca: () => ACA,
    /** aca.enabled: a client's enrollment has the ACA fetch its attributes. */
    private readonly fetchAttributes: boolean
  ) {}

  static async open (ctx: CaContext, aca: () => ACA, fetchAttributes: boolean): Promise<ECA> {
    const authority = await openAuthority(ctx.store, 'eca', ctx.suite, ctx.subject, ctx.scheduler.now(), ctx.randomBytes)
    const chainKey = await ctx.store.ensureSecret('obc.aes', () => ctx.randomBytes(32))
    const chainPriv = parsePrivateKey(await ctx.store.ensureSecret('obc.ecies', () => marshalPrivateKey(generateEcKey(ctx.suite.curve, ctx.randomBytes))))
    return new ECA(ctx, authority, chainKey,
      utf8(encodePem('ECDSA PRIVATE KEY', marshalPrivateKey(chainPriv))),
      utf8(encodePem('ECDSA PUBLIC KEY', marshalPublicKey(chainPriv.publicKey))), aca, fetchAttributes)
  }

  readonly ecap = {
    readCACertificate: async (_req: Empty): Promise<Cert> => create(CertSchema, { cert: this.authority.raw }),
    createCertificatePair: async (req: ECertCreateReq): Promise<ECertCreateResp> => await this.createCertificatePair(req),
    readCertificatePair: async (req: ECertReadReq): Promise<CertPair> => await this.readCertificatePair(required(req.id, 'id').id),
    readCertificateByHash: async (req: Hash): Promise<Cert> => {
      const found = await this.ctx.store.certificateByHash('eca', req.hash)
      if (found === undefined) throw new CaError('NOT_FOUND', 'no certificate with that hash')
      return create(CertSchema, { cert: found.cert })
    },
    revokeCertificatePair: async (req: ECertRevokeReq): Promise<CAStatus> => await this.revoke(req, 'own')
  }

  readonly ecaa = {
    registerUser: async (req: RegisterUserReq): Promise<Token> => await this.registerUser(req),
    readUserSet: async (req: ReadUserSetReq): Promise<UserSet> => await this.readUserSet(req),
    revokeCertificate: async (req: ECertRevokeReq): Promise<CAStatus> => await this.revoke(req, 'registrar'),
    publishCRL: async (_req: ECertCRLReq): Promise<CAStatus> => {
      throw new CaError('UNIMPLEMENTED', 'ECAA:PublishCRL method not (yet) implemented')
    }
  }

  /** The member's current signing ECert; refused when there is none or it was revoked. */
  async signingCertificate (id: string): Promise<SigningCertificate> {
    const record = (await this.ctx.store.certificatesOf('eca', id)).find(c => c.usage === KeyUsage.DigitalSignature)
    if (record === undefined) throw new CaError('NOT_FOUND', `no enrollment certificate for ${id}: enroll first`)
    if (record.revoked === true) throw new CaError('PERMISSION_DENIED', `the enrollment certificate of ${id} is revoked`)
    return { record, cert: parseCertificate(record.cert) }
  }

  private async createCertificatePair (req: ECertCreateReq): Promise<ECertCreateResp> {
    const id = required(req.id, 'id').id
    const tok = req.tok?.tok ?? new Uint8Array(0)
    const issued = await this.ctx.store.mutate(async (batch): Promise<ECertCreateResp | { sraw: Uint8Array, eraw: Uint8Array, role: number }> => {
      const user = await this.ctx.store.user(id)
      if (user === undefined) throw new CaError('NOT_FOUND', `Identity lookup error: no user ${id}`)
      if (!equalBytes(user.token, tok)) {
        if (user.state === UserState.enrolled) throw new CaError('FAILED_PRECONDITION', `Identity or token does not match: ${id} is already enrolled and its one-time token is used`)
        throw new CaError('UNAUTHENTICATED', 'Identity or token does not match.')
      }
      const encKey = required(req.enc, 'enc').key
      const encPub = parsed('enc key', () => parsePublicKey(encKey))
      if (user.state === UserState.registered) {
        // Phase 1: a fresh token, sent back encrypted to the encryption key; only its owner can answer.
        const challenge = utf8(randomToken(this.ctx.randomBytes))
        batch.putUser({ ...user, token: challenge, state: UserState.challenged, key: encKey })
        return create(ECertCreateRespSchema, { tok: create(TokenSchema, { tok: eciesEncrypt(this.ctx.suite, encPub, challenge, this.ctx.randomBytes) }) })
      }
      if (user.state !== UserState.challenged) throw new CaError('FAILED_PRECONDITION', 'Invalid (=expired) certificate creation token provided.')
      if (user.key === undefined || !equalBytes(user.key, encKey)) throw new CaError('UNAUTHENTICATED', 'Encryption keys do not match.')
      const sign = required(req.sign, 'sign')
      if (sign.type !== CryptoType.ECDSA) throw new CaError('INVALID_ARGUMENT', 'Unsupported (signing) key type.')
      const signPub = parsed('sign key', () => parsePublicKey(sign.key))
      if (!verifySignedRequest(this.ctx.suite, signPub, ECertCreateReqSchema, req, 'sig', req.sig)) {
        throw new CaError('UNAUTHENTICATED', 'Signature verification failed.')
      }
      const now = this.ctx.scheduler.now()
      const timestamp = (now - 60_000) * 1e6
      const sraw = this.issue(user, signPub, KeyUsage.DigitalSignature, now)
      const eraw = this.issue(user, encPub, KeyUsage.DataEncipherment, now)
      batch.addCertificate({ authority: 'eca', id, timestamp, usage: KeyUsage.DigitalSignature, cert: sraw, hash: this.ctx.suite.hash(sraw) })
      batch.addCertificate({ authority: 'eca', id, timestamp, usage: KeyUsage.DataEncipherment, cert: eraw, hash: this.ctx.suite.hash(eraw) })
      batch.putUser({ ...user, state: UserState.enrolled })
      log.info(`enrolled ${id}`)
      return { sraw, eraw, role: user.role }
    })
    // Phase 1 answered with the challenge; phase 2 issued the pair, which is answered once the ACA (if any) has the owner's attributes.
    if ('$typeName' in issued) return issued
    const { sraw, eraw, role } = issued
    const fetchResult = role === Role.CLIENT && this.fetchAttributes
      ? await this.fetchAttributesOf(sraw)
      : create(FetchAttrsResultSchema, { status: FetchAttrsResult_StatusCode.SUCCESS })
    return create(ECertCreateRespSchema, {
      certs: create(CertPairSchema, { sign: sraw, enc: eraw }),
      chain: create(TokenSchema, { tok: this.chainKey }),
      pkchain: role === Role.VALIDATOR ? this.chainPrivPem : this.chainPubPem,
      fetchResult
    })
  }

  /** Asks the ACA to load the attributes of a new ECert's owner (Fabric's ECAP.fetchAttributes); a failure is reported, not fatal. */
  private async fetchAttributesOf (ecert: Uint8Array): Promise<FetchAttrsResult> {
    const req = create(ACAFetchAttrReqSchema, { ts: timestampFromMs(this.ctx.scheduler.now()), eCert: { cert: ecert } })
    req.signature = this.aca().sign(this.authority, toBinary(ACAFetchAttrReqSchema, req))
    const resp = await this.aca().acap.fetchAttributes(req)
    if (resp.status === ACAFetchAttrResp_StatusCode.FAILURE) {
      return create(FetchAttrsResultSchema, { status: FetchAttrsResult_StatusCode.FAILURE, Msg: 'Error fetching attributes.' })
    }
    return create(FetchAttrsResultSchema, { status: FetchAttrsResult_StatusCode.SUCCESS })
  }

  private issue (user: UserRecord, pub: EcPublicKey, usage: number, now: number): Uint8Array {
    return issueCertificate(this.authority, {
      commonName: user.enrollmentId,
      serial: 1n,
      publicKey: pub,
      usage,
      ...defaultValidity(now),
      extensions: [{ id: OID_ECERT_SUBJECT_ROLE, critical: true, value: utf8(String(user.role)) }]
    })
  }

  private async readCertificatePair (id: string): Promise<CertPair> {
    const certs = await this.ctx.store.certificatesOf('eca', id)
    if (certs.length < 2) throw new CaError('NOT_FOUND', 'No certificates for the given identity were found.')
    return create(CertPairSchema, { sign: certs[0].cert, enc: certs[1].cert })
  }

  /** Checks that `signer`'s signing ECert signed the request. */
  private async checkSigner<R extends { sig?: RegisterUserReq['sig'] }> (signer: string, schema: Parameters<typeof verifySignedRequest>[2], req: R): Promise<SigningCertificate> {
    const ecert = await this.signingCertificate(signer)
    if (!verifySignedRequest(this.ctx.suite, ecert.cert.publicKey, schema, req as never, 'sig', req.sig)) {
      throw new CaError('UNAUTHENTICATED', 'Signature verification failed.')
    }
    return ecert
  }

  private async registerUser (req: RegisterUserReq): Promise<Token> {
    const registrar = req.registrar?.id?.id ?? ''
    if (registrar === '') throw new CaError('INVALID_ARGUMENT', 'no registrar was specified')
    await this.checkSigner(registrar, RegisterUserReqSchema, req)
    // The new member's registrar rights, as Go's encoding/json writes the Registrar without its id.
    const rights: Record<string, string[]> = {}
    if (req.registrar!.roles.length > 0) rights.roles = req.registrar!.roles
    if (req.registrar!.delegateRoles.length > 0) rights.delegateRoles = req.registrar!.delegateRoles
    const secret = await registerUser(this.ctx.store, {
      id: required(req.id, 'id').id,
      role: req.role,
      affiliation: req.affiliation,
      metadata: JSON.stringify({ registrar: rights }),
      registrar
    }, this.ctx.randomBytes)
    if (req.attributes.length > 0) {
      await this.aca().populate(req.attributes.map(a => parseAttributeEntry([req.id!.id, req.affiliation, a.name, a.value, a.notBefore, a.notAfter])))
    }
    log.info(`${registrar} registered ${req.id!.id}`)
    return create(TokenSchema, { tok: utf8(secret) })
  }

  private async readUserSet (req: ReadUserSetReq): Promise<UserSet> {
    const requester = required(req.req, 'req').id
    const user = await this.ctx.store.user(requester)
    if (user === undefined || (user.role & Role.AUDITOR) === 0) throw new CaError('PERMISSION_DENIED', 'Access denied.')
    await this.checkSigner(requester, ReadUserSetReqSchema, req)
    const users = (await this.ctx.store.allUsers()).filter(u => (u.role & req.role) !== 0)
    return create(UserSetSchema, { users: users.map(u => create(UserSchema, { id: { id: u.id }, role: u.role })) })
  }

  /**
   * Revokes an ECert pair (Fabric 0.6.1 answers "not (yet) implemented"): a member its own, or a
   * registrar one of a member it may register. The member gets no certificates after that.
   */
  private async revoke (req: ECertRevokeReq, who: 'own' | 'registrar'): Promise<CAStatus> {
    const signer = required(req.id, 'id').id
    const target = required(req.cert, 'cert').cert
    const signed = await this.checkSigner(signer, ECertRevokeReqSchema, req)
    const record = await this.ctx.store.certificateByHash('eca', this.ctx.suite.hash(target))
    if (record === undefined) throw new CaError('NOT_FOUND', 'no such enrollment certificate')
    if (who === 'own' && record.id !== signer) throw new CaError('PERMISSION_DENIED', `${signer} may revoke only its own certificate`)
    await this.ctx.store.mutate(async batch => {
      const owner = await this.ctx.store.user(record.id)
      if (owner === undefined) throw new CaError('NOT_FOUND', `Identity lookup error: no user ${record.id}`)
      if (who === 'registrar') {
        const registrar = await this.ctx.store.user(signer)
        checkCanRegister(signer, registrar?.metadata ?? '', owner.role, '')
      }
      for (const c of await this.ctx.store.certificatesOf('eca', record.id)) batch.reviseCertificate({ ...c, revoked: true })
      batch.putUser({ ...owner, state: UserState.revoked })
    })
    log.info(`${signed.record.id} revoked the enrollment certificates of ${record.id}`)
    return create(CAStatusSchema, { status: CAStatus_StatusCode.OK })
  }
}
