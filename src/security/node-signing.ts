import { toHex } from '../crypto/bytes.ts'
import type { SecurityUtils } from '../consensus/interfaces.ts'
import type { MessageSigner } from '../peer/security.ts'
import type { PeerID } from '../protos/fabric_pb.ts'
import type { NodeSecurity } from './member.ts'

/**
 * Messages signed with this peer's enrollment key, as Fabric 0.6.1's crypto.Peer does it: the
 * pkiID is the hash of the enrollment certificate, and another peer's signature is checked
 * against the enrollment certificate the ECA gives for that peer's pkiID (a peer or validator
 * only), fetched once. Fabric signs and checks only HELLO on the Chat stream.
 */
export class EnrollmentSigning implements MessageSigner {
  readonly pkiID: Uint8Array
  readonly rule = 'hello'
  private readonly certs = new Map<string, Promise<Uint8Array>>()
  private readonly known = new Map<string, Uint8Array>()

  constructor (private readonly security: NodeSecurity) {
    this.pkiID = security.verifier.hash(security.self.enrollment.cert)
    this.known.set(toHex(this.pkiID), security.self.enrollment.cert)
  }

  sign = async (data: Uint8Array): Promise<Uint8Array> => this.security.self.enrollment.sign(data)

  verify = async (pkiID: Uint8Array, data: Uint8Array, signature: Uint8Array): Promise<boolean> => {
    return this.security.verifier.verify(await this.certificate(pkiID), data, signature)
  }

  /**
   * PBFT's signatures (view changes) by the validators' enrollment keys: a replica is checked
   * against the certificate of the pkiID its HELLO gave (`pkiIDOf`), already fetched then; this
   * peer (`self`) against its own.
   */
  consensus (self: string, pkiIDOf: (name: string) => Uint8Array | undefined): SecurityUtils {
    return {
      sign: data => this.security.self.enrollment.sign(data),
      verify: (signer: PeerID, signature, data) => {
        const pkiID = signer.name === self ? this.pkiID : pkiIDOf(signer.name)
        const cert = pkiID === undefined ? undefined : this.known.get(toHex(pkiID))
        if (cert === undefined) throw new Error(`Could not verify message from ${signer.name} (unknown peer)`)
        if (!this.security.verifier.verify(cert, data, signature)) throw new Error(`Invalid Signature. (from ${signer.name})`)
      }
    }
  }

  private async certificate (pkiID: Uint8Array): Promise<Uint8Array> {
    const key = toHex(pkiID)
    let cert = this.certs.get(key)
    if (cert === undefined) {
      cert = this.security.enrollmentCertificate(pkiID)
      this.certs.set(key, cert)
      // A refusal is not kept: the peer may enroll later.
      cert.then(c => { this.known.set(key, c) }, () => { this.certs.delete(key) })
    }
    try {
      return await cert
    } catch (err) {
      throw new Error(`no enrollment certificate for pkiID ${key.slice(0, 16)}…: ${(err as Error).message}`)
    }
  }
}
