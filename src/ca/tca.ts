import { create, toBinary } from '@bufbuild/protobuf'
import { utf8 } from '../crypto/bytes.ts'
import { bigIntFromBytes } from '../crypto/fabric/ec-key.ts'
import { affiliationPreKey, deriveTCertPublicKey, encryptTCertEnrollmentId, tcertBatchNonce, tcertIndex, tcertKdfKey, tcertPreK0 } from '../crypto/fabric/tcert.ts'
import { KeyUsage, OID_TCERT_ATTRIBUTES_BASE, OID_TCERT_ATTRIBUTES_HEADERS, OID_TCERT_ENC_ENROLLMENT_ID, OID_TCERT_ENC_TCERT_INDEX } from '../crypto/fabric/x509.ts'
import {
  ACAAttrReqSchema, ACAAttrResp_StatusCode, CertSchema, CertSetSchema, TCertAttributeSchema, TCertCreateSetReqSchema, TCertCreateSetRespSchema, TCertSchema,
  type ACAAttribute, type CAStatus, type Cert, type Empty, type TCert, type TCertCreateSetReq, type TCertCreateSetResp,
  type TCertCRLReq, type TCertRevokeReq, type TCertRevokeSetReq
} from '../protos/ca_pb.ts'
import { createLogger } from '../util/logger.ts'
import { validAttributes, type ACA } from './aca.ts'
import { openAuthority, type Authority } from './authority.ts'
import { defaultValidity, issueCertificate } from './certificates.ts'
import { required, type CaContext } from './context.ts'
import type { ECA } from './eca.ts'
import { CaError } from './errors.ts'
import { verifySignedRequest } from './signed-request.ts'

const log = createLogger('tca')

/** Most TCerts one request may ask for (Fabric sets no bound; the peer's default batch is 200). */
export const maxTCertBatch = 1000

/**
 * The transaction certificate authority: batches of TCerts whose keys only the ECert's owner
 * can derive (Fabric's TCertOwnerKDFKey scheme), each carrying its index and the owner's
 * enrollment id encrypted (the latter for auditors holding the affiliation's pre-key).
 */
export class TCA {
  private constructor (
    private readonly ctx: CaContext,
    private readonly eca: ECA,
    readonly authority: Authority,
    private readonly hmacKey: Uint8Array,
    /** Each affiliation group's pre-key: the root's is the TCA's own, a child's is HMAC(parent's, name). */
    private readonly preKeys: Map<string, Uint8Array>,
    /** With aca.enabled: where the attributes a request names come from. */
    private readonly aca: (() => ACA) | undefined
  ) {}

  static async open (ctx: CaContext, eca: ECA, aca: (() => ACA) | undefined): Promise<TCA> {
    const authority = await openAuthority(ctx.store, 'tca', ctx.suite, ctx.subject, ctx.scheduler.now(), ctx.randomBytes)
    const hmacKey = await ctx.store.ensureSecret('tca.hmac', () => ctx.randomBytes(49))
    const rootPreKey = await ctx.store.ensureSecret('root_pk.hmac', () => ctx.randomBytes(48))
    const groups = new Map((await ctx.store.allAffiliations()).map(g => [g.name, g.parent]))
    const preKeys = new Map<string, Uint8Array>()
    const preKeyOf = (name: string, depth = 0): Uint8Array => {
      const have = preKeys.get(name)
      if (have !== undefined) return have
      const parent = groups.get(name) ?? ''
      if (depth > groups.size) throw new Error(`affiliation group ${name} is its own ancestor`)
      const key = parent === '' ? rootPreKey : affiliationPreKey(ctx.suite, preKeyOf(parent, depth + 1), name)
      preKeys.set(name, key)
      return key
    }
    for (const name of groups.keys()) preKeyOf(name)
    return new TCA(ctx, eca, authority, hmacKey, preKeys, aca)
  }

  readonly tcap = {
    readCACertificate: async (_req: Empty): Promise<Cert> => create(CertSchema, { cert: this.authority.raw }),
    createCertificateSet: async (req: TCertCreateSetReq): Promise<TCertCreateSetResp> => await this.createCertificateSet(req),
    revokeCertificate: async (_req: TCertRevokeReq): Promise<CAStatus> => notImplemented(),
    revokeCertificateSet: async (_req: TCertRevokeSetReq): Promise<CAStatus> => notImplemented()
  }

  readonly tcaa = {
    revokeCertificate: async (_req: TCertRevokeReq): Promise<CAStatus> => notImplemented(),
    revokeCertificateSet: async (_req: TCertRevokeSetReq): Promise<CAStatus> => notImplemented(),
    publishCRL: async (_req: TCertCRLReq): Promise<CAStatus> => notImplemented()
  }

  private async createCertificateSet (req: TCertCreateSetReq): Promise<TCertCreateSetResp> {
    const id = required(req.id, 'id').id
    const ts = required(req.ts, 'ts')
    const { cert: ecert, record } = await this.eca.signingCertificate(id)
    if (!verifySignedRequest(this.ctx.suite, ecert.publicKey, TCertCreateSetReqSchema, req, 'sig', req.sig)) {
      throw new CaError('UNAUTHENTICATED', 'signature does not verify')
    }
    const num = req.num === 0 ? 1 : req.num
    if (num > maxTCertBatch) throw new CaError('INVALID_ARGUMENT', `asked for ${num} TCerts; at most ${maxTCertBatch} a request`)
    const attrs = req.attributes.length > 0 && this.aca !== undefined ? await this.attributesFor(id, record.cert, req) : []
    const preK1 = this.preKeyFor(ecert.subject.commonName)
    const suite = this.ctx.suite
    const nonce = tcertBatchNonce(ts.seconds, this.ctx.randomBytes)
    const kdfKey = tcertKdfKey(suite, this.hmacKey, ecert.publicKey)
    const period = defaultValidity(this.ctx.scheduler.now())
    const certs: TCert[] = []
    for (let i = 0; i < num; i++) {
      const serial = this.uuidInt()
      const { publicKey, encryptedIndex } = deriveTCertPublicKey(suite, ecert.publicKey, kdfKey, tcertIndex(i, nonce), this.ctx.randomBytes)
      const preK0 = tcertPreK0(suite, preK1, serial)
      const raw = issueCertificate(this.authority, {
        commonName: 'Transaction Certificate',
        serial,
        publicKey,
        usage: KeyUsage.DigitalSignature,
        ...period,
        extensions: [
          // Attribute values in clear (Fabric 0.6.1's TCA never encrypts them), then the index, the enrollment id and the attributes' header.
          ...attrs.map((a, n) => ({ id: `${OID_TCERT_ATTRIBUTES_BASE}.${10 + n}`, critical: false, value: a.attributeValue })),
          { id: OID_TCERT_ENC_TCERT_INDEX, critical: true, value: encryptedIndex },
          { id: OID_TCERT_ENC_ENROLLMENT_ID, critical: false, value: encryptTCertEnrollmentId(suite, preK0, ecert.subject.commonName, this.ctx.randomBytes) },
          ...(attrs.length === 0 ? [] : [{ id: OID_TCERT_ATTRIBUTES_HEADERS, critical: false, value: attributesHeader(attrs) }])
        ]
      })
      certs.push(create(TCertSchema, { cert: raw, prek0: preK0 }))
    }
    await this.ctx.store.mutate(async batch => { batch.addTCertSet({ enrollmentId: id, timestamp: Number(ts.seconds), nonce, kdfKey }) })
    log.info(`issued ${num} TCerts to ${id}`)
    return create(TCertCreateSetRespSchema, { certs: create(CertSetSchema, { ts, id: req.id, key: kdfKey, certs }) })
  }

  /** The attributes the ACA certifies for the ECert's owner, among those asked for (Fabric's TCAP.requestAttributes). */
  private async attributesFor (id: string, ecert: Uint8Array, req: TCertCreateSetReq): Promise<ACAAttribute[]> {
    const ask = create(ACAAttrReqSchema, {
      ts: { seconds: BigInt(Math.floor(this.ctx.scheduler.now() / 1000)), nanos: 0 },
      id: { id },
      eCert: { cert: ecert },
      attributes: req.attributes.map(a => create(TCertAttributeSchema, { attributeName: a.attributeName }))
    })
    ask.signature = this.aca!().sign(this.authority, toBinary(ACAAttrReqSchema, ask))
    const resp = await this.aca!().acap.requestAttributes(ask)
    if (resp.status >= ACAAttrResp_StatusCode.FAILURE_MINVAL && resp.status <= ACAAttrResp_StatusCode.FAILURE_MAXVAL) {
      throw new CaError('FAILED_PRECONDITION', `Error fetching attributes = ${ACAAttrResp_StatusCode[resp.status]}`)
    }
    return resp.cert === undefined ? [] : validAttributes(resp.cert.cert, this.ctx.scheduler.now())
  }

  /** The pre-key of the affiliation in an ECert's `id\affiliation` common name. */
  private preKeyFor (enrollmentId: string): Uint8Array {
    if (enrollmentId === '') throw new CaError('FAILED_PRECONDITION', 'Input parameter missing: the enrollment certificate names no affiliation (validators and auditors get no TCerts)')
    const parts = enrollmentId.split('\\')
    if (parts.length !== 2) throw new CaError('FAILED_PRECONDITION', `Either the userId or affiliation is missing from the enrollmentID. EnrollID was ${enrollmentId}`)
    const preKey = this.preKeys.get(parts[1])
    if (preKey === undefined) throw new CaError('FAILED_PRECONDITION', `Could not be found a pre-k to the affiliation group ${parts[1]}.`)
    return preKey
  }

  /** Fabric's util.GenerateIntUUID: a version-4 UUID's 16 bytes read as an integer (each TCert's serial). */
  private uuidInt (): bigint {
    const b = this.ctx.randomBytes(16)
    b[6] = (b[6] & 0x0f) | 0x40
    b[8] = (b[8] & 0x3f) | 0x80
    return bigIntFromBytes(b)
  }
}

/** Fabric's attributes header: 00HEAD then name->position# for each attribute, positions from 1. */
function attributesHeader (attrs: ACAAttribute[]): Uint8Array {
  return utf8('00HEAD' + attrs.map((a, n) => `${a.attributeName}->${n + 1}#`).join(''))
}

function notImplemented (): never {
  throw new CaError('UNIMPLEMENTED', 'not yet implemented')
}
