import { create } from '@bufbuild/protobuf'
import { parsePublicKey } from '../crypto/fabric/keys.ts'
import { KeyUsage } from '../crypto/fabric/x509.ts'
import {
  CertSchema, CryptoType, TLSCertCreateReqSchema, TLSCertCreateRespSchema,
  type CAStatus, type Cert, type Empty, type TLSCertCreateReq, type TLSCertCreateResp, type TLSCertReadReq, type TLSCertRevokeReq
} from '../protos/ca_pb.ts'
import { createLogger } from '../util/logger.ts'
import { openAuthority, type Authority } from './authority.ts'
import { defaultValidity, issueCertificate } from './certificates.ts'
import { parsed, required, type CaContext } from './context.ts'
import { CaError } from './errors.ts'
import { verifySignedRequest } from './signed-request.ts'

const log = createLogger('tlsca')

/**
 * The TLS certificate authority: a certificate for any key whose holder signs the request with
 * it (Fabric asks nothing more), and its own certificate as the root clients trust.
 */
export class TLSCA {
  private constructor (private readonly ctx: CaContext, readonly authority: Authority) {}

  static async open (ctx: CaContext): Promise<TLSCA> {
    return new TLSCA(ctx, await openAuthority(ctx.store, 'tlsca', ctx.suite, ctx.subject, ctx.scheduler.now(), ctx.randomBytes))
  }

  readonly tlscap = {
    readCACertificate: async (_req: Empty): Promise<Cert> => create(CertSchema, { cert: this.authority.raw }),
    createCertificate: async (req: TLSCertCreateReq): Promise<TLSCertCreateResp> => await this.createCertificate(req),
    readCertificate: async (req: TLSCertReadReq): Promise<Cert> => {
      const id = required(req.id, 'id').id
      const certs = await this.ctx.store.certificatesOf('tlsca', id)
      if (certs.length === 0) throw new CaError('NOT_FOUND', `no TLS certificate for ${id}`)
      return create(CertSchema, { cert: certs[certs.length - 1].cert })
    },
    revokeCertificate: async (_req: TLSCertRevokeReq): Promise<CAStatus> => notImplemented()
  }

  readonly tlscaa = {
    revokeCertificate: async (_req: TLSCertRevokeReq): Promise<CAStatus> => notImplemented()
  }

  private async createCertificate (req: TLSCertCreateReq): Promise<TLSCertCreateResp> {
    const id = required(req.id, 'id').id
    const pub = required(req.pub, 'pub')
    if (pub.type !== CryptoType.ECDSA) throw new CaError('INVALID_ARGUMENT', 'unsupported key type')
    const key = parsed('pub key', () => parsePublicKey(pub.key))
    if (!verifySignedRequest(this.ctx.suite, key, TLSCertCreateReqSchema, req, 'sig', req.sig)) {
      throw new CaError('UNAUTHENTICATED', 'signature does not verify')
    }
    const raw = issueCertificate(this.authority, {
      commonName: id, serial: 1n, publicKey: key, usage: KeyUsage.DigitalSignature, ...defaultValidity(this.ctx.scheduler.now()), extensions: []
    })
    await this.ctx.store.mutate(async batch => {
      batch.addCertificate({ authority: 'tlsca', id, timestamp: Number(req.ts?.seconds ?? 0n), usage: KeyUsage.DigitalSignature, cert: raw, hash: this.ctx.suite.hash(raw) })
    })
    log.info(`issued a TLS certificate to ${id}`)
    return create(TLSCertCreateRespSchema, { cert: { cert: raw }, rootCert: { cert: this.authority.raw } })
  }
}

function notImplemented (): never {
  throw new CaError('UNIMPLEMENTED', 'not yet implemented')
}
