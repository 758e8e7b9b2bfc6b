import { clone, create, fromBinary, toBinary } from '@bufbuild/protobuf'
import { bigIntText, ecdsaSignDirect } from '../crypto/fabric/ecdsa.ts'
import { parseCertificate, type CertExtension } from '../crypto/fabric/x509.ts'
import { utf8 } from '../crypto/bytes.ts'
import {
  ACAAttrReqSchema, ACAAttrRespSchema, ACAAttrResp_StatusCode, ACAAttributeSchema, ACAFetchAttrReqSchema, ACAFetchAttrRespSchema,
  ACAFetchAttrResp_StatusCode, CertSchema, CryptoType, SignatureSchema,
  type ACAAttrReq, type ACAAttrResp, type ACAAttribute, type ACAFetchAttrReq, type ACAFetchAttrResp, type Cert, type Empty, type Signature
} from '../protos/ca_pb.ts'
import { createLogger } from '../util/logger.ts'
import { openAuthority, type Authority } from './authority.ts'
import { defaultValidity, issueCertificate } from './certificates.ts'
import type { CaContext } from './context.ts'
import { CaError } from './errors.ts'
import { verifySignedRequest } from './signed-request.ts'
import type { AttributeRecord } from './store.ts'

const log = createLogger('aca')

/** An ACert's attributes are extensions 1.2.3.4.5.6.11, .12, … (Fabric's IsAttributeOID: above 1.2.3.4.5.6.10). */
const attributeOidBase = '1.2.3.4.5.6.'

export function isAttributeOid (oid: string): boolean {
  if (!oid.startsWith(attributeOidBase)) return false
  const last = Number(oid.slice(attributeOidBase.length))
  return Number.isInteger(last) && last > 10
}

/** `id;affiliation;name;value;validFrom;validTo` (RFC 3339 times, empty for none), as membersrvc.yaml's aca.attributes and RegisterUser's attributes. */
export function parseAttributeEntry (fields: string[]): AttributeRecord {
  if (fields.length < 6) throw new CaError('INVALID_ARGUMENT', 'Invalid attribute entry')
  const [id, affiliation, name, value, from, to] = fields.map(f => f.trim())
  const time = (text: string): number => {
    if (text === '') return 0
    const ms = Date.parse(text)
    if (Number.isNaN(ms)) throw new CaError('INVALID_ARGUMENT', `Invalid attribute entry: "${text}" is not an RFC 3339 time`)
    return ms
  }
  return { id, affiliation, name, value: utf8(value), validFrom: time(from), validTo: time(to) }
}

/** Whether an attribute holds at `now` (valid from its start, until its end if it has one). */
export function attributeValidAt (a: { validFrom: number, validTo: number }, now: number): boolean {
  return a.validFrom <= now && (a.validTo === 0 || a.validTo > now)
}

/** Go's timestamp of an attribute time: seconds, and (as Fabric writes it) the nanoseconds since the epoch cut to an int32. */
function goTimestamp (ms: number): { seconds: bigint, nanos: number } | undefined {
  if (ms === 0) return undefined
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: Number(BigInt.asIntN(32, BigInt(ms) * 1_000_000n)) }
}

function timestampMs (ts: { seconds: bigint, nanos: number } | undefined): number {
  return ts === undefined ? 0 : Number(ts.seconds) * 1000 + ts.nanos / 1e6
}

/**
 * The attribute certificate authority: attributes from membersrvc.yaml's aca.attributes and from
 * RegisterUser, and ACerts listing those a TCA asks for on a member's behalf. Only the ECA and
 * the TCA may ask: their requests carry their signatures.
 */
export class ACA {
  private constructor (
    private readonly ctx: CaContext,
    readonly authority: Authority,
    /** aca.attributes: the entries an ECert's owner gets on a fetch. */
    private readonly configured: AttributeRecord[],
    /** The authorities whose requests the ACA answers. */
    private readonly signers: { eca: Authority, tca: Authority }
  ) {}

  static async open (ctx: CaContext, configured: Record<string, unknown>, signers: { eca: Authority, tca: Authority }): Promise<ACA> {
    const entries: AttributeRecord[] = []
    for (const [key, line] of Object.entries(configured)) {
      const fields = String(line).trim().split(/\s+/).join(' ').split(';')
      if (fields.length < 6) { log.error(`Invalid attribute entry '${key}'`); continue }
      entries.push(parseAttributeEntry(fields))
    }
    return new ACA(ctx, await openAuthority(ctx.store, 'aca', ctx.suite, ctx.subject, ctx.scheduler.now(), ctx.randomBytes), entries, signers)
  }

  readonly acap = {
    readCACertificate: async (_req: Empty): Promise<Cert> => create(CertSchema, { cert: this.authority.raw }),
    requestAttributes: async (req: ACAAttrReq): Promise<ACAAttrResp> => await this.requestAttributes(req),
    fetchAttributes: async (req: ACAFetchAttrReq): Promise<ACAFetchAttrResp> => await this.fetchAttributes(req)
  }

  /** Stores attributes (newer validity wins over an older row of the same name). */
  async populate (attrs: AttributeRecord[]): Promise<void> {
    await this.ctx.store.mutate(async batch => {
      for (const a of attrs) {
        const have = await this.ctx.store.attribute(a.id, a.affiliation, a.name)
        if (have === undefined || have.validFrom < a.validFrom) batch.putAttribute(a)
      }
    })
  }

  /** The ECA's or TCA's signature over a request to the ACA (with its signature field empty). */
  sign (authority: Authority, msg: Uint8Array): Signature {
    const sig = ecdsaSignDirect(this.ctx.suite, authority.key, msg)
    return create(SignatureSchema, { type: CryptoType.ECDSA, r: bigIntText(sig.r), s: bigIntText(sig.s) })
  }

  /** The `id\affiliation` of an ECert's common name. */
  private owner (ecert: Uint8Array): { id: string, affiliation: string } {
    const parts = parseCertificate(ecert).subject.commonName.split('\\')
    if (parts.length !== 2) throw new CaError('FAILED_PRECONDITION', 'Either the userId or affiliation is missing from the enrollmentID.')
    return { id: parts[0], affiliation: parts[1] }
  }

  private async fetchAndPopulate (owner: { id: string, affiliation: string }): Promise<void> {
    await this.populate(this.configured.filter(a => a.id === owner.id && a.affiliation === owner.affiliation))
  }

  private async fetchAttributes (req: ACAFetchAttrReq): Promise<ACAFetchAttrResp> {
    const failure = (msg: string): ACAFetchAttrResp => create(ACAFetchAttrRespSchema, { status: ACAFetchAttrResp_StatusCode.FAILURE, Msg: msg })
    if (req.ts === undefined || req.eCert === undefined || req.signature === undefined) return failure('Bad request')
    if (!verifySignedRequest(this.ctx.suite, this.signers.eca.cert.publicKey, ACAFetchAttrReqSchema, req, 'signature', req.signature)) return failure('Signature does not verify')
    await this.fetchAndPopulate(this.owner(req.eCert.cert))
    return create(ACAFetchAttrRespSchema, { status: ACAFetchAttrResp_StatusCode.SUCCESS })
  }

  private async requestAttributes (req: ACAAttrReq): Promise<ACAAttrResp> {
    const missing = req.ts === undefined
      ? ACAAttrResp_StatusCode.FAIL_NIL_TS
      : req.id === undefined
        ? ACAAttrResp_StatusCode.FAIL_NIL_ID
        : req.eCert === undefined ? ACAAttrResp_StatusCode.FAIL_NIL_ECERT : req.signature === undefined ? ACAAttrResp_StatusCode.FAIL_NIL_SIGNATURE : undefined
    if (missing !== undefined) return this.response(missing)
    const names = req.attributes.map(a => a.attributeName)
    if (new Set(names).size !== names.length) return this.response(ACAAttrResp_StatusCode.BAD_REQUEST)
    if (!verifySignedRequest(this.ctx.suite, this.signers.tca.cert.publicKey, ACAAttrReqSchema, req, 'signature', req.signature)) {
      throw new CaError('UNAUTHENTICATED', 'Signature does not verify')
    }
    const ecert = parseCertificate(req.eCert!.cert)
    const owner = this.owner(req.eCert!.cert)
    await this.fetchAndPopulate(owner)
    const found: AttributeRecord[] = []
    for (const name of names) {
      const a = await this.ctx.store.attribute(owner.id, owner.affiliation, name)
      if (a !== undefined) found.push(a)
    }
    const extensions: CertExtension[] = found.map((a, i) => ({
      id: `${attributeOidBase}${11 + i}`,
      critical: false,
      value: toBinary(ACAAttributeSchema, create(ACAAttributeSchema, { attributeName: a.name, attributeValue: a.value, validFrom: goTimestamp(a.validFrom), validTo: goTimestamp(a.validTo) }))
    }))
    const raw = issueCertificate(this.authority, {
      commonName: owner.id, serial: 1n, publicKey: ecert.publicKey, usage: ecert.keyUsage, ...defaultValidity(this.ctx.scheduler.now()), extensions
    })
    const status = found.length === 0
      ? ACAAttrResp_StatusCode.NO_ATTRIBUTES_FOUND
      : found.length === names.length ? ACAAttrResp_StatusCode.FULL_SUCCESSFUL : ACAAttrResp_StatusCode.PARTIAL_SUCCESSFUL
    return this.response(status, raw)
  }

  /** A response signed by the ACA over its bytes without the signature. */
  private response (status: ACAAttrResp_StatusCode, cert?: Uint8Array): ACAAttrResp {
    const resp = create(ACAAttrRespSchema, { status, cert: cert === undefined ? undefined : { cert } })
    const signed = clone(ACAAttrRespSchema, resp)
    signed.signature = this.sign(this.authority, toBinary(ACAAttrRespSchema, resp))
    return signed
  }
}

/** The attributes of an ACert that hold at `now` (Fabric's TCAP.selectValidAttributes). */
export function validAttributes (acert: Uint8Array, now: number): ACAAttribute[] {
  const out: ACAAttribute[] = []
  for (const ext of parseCertificate(acert).extensions) {
    if (!isAttributeOid(ext.id)) continue
    let attr: ACAAttribute
    try {
      attr = fromBinary(ACAAttributeSchema, ext.value)
    } catch {
      continue
    }
    if (attr.attributeName === '') continue
    if (attributeValidAt({ validFrom: timestampMs(attr.validFrom), validTo: timestampMs(attr.validTo) }, now)) out.push(attr)
  }
  return out
}
