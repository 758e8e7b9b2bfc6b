import { fromUtf8 } from '../crypto/bytes.ts'
import { CaClient } from '../crypto/fabric/ca-client.ts'
import type { CaRpc } from '../crypto/fabric/ca-rpc.ts'
import { cryptoSuite } from '../crypto/fabric/suite.ts'
import { getExtension, OID_ECERT_SUBJECT_ROLE } from '../crypto/fabric/x509.ts'
import { Role } from '../protos/ca_pb.ts'
import type { MembershipClient } from './keystore.ts'

/** The keystore's membership calls on fabric-crypto's CA client: enrollment with the chains, TCert batches, peers' certificates by hash. */
export function caMembership (client: CaClient): MembershipClient {
  return {
    async enroll (enrollID, enrollSecret) {
      const e = await client.enroll(enrollID, enrollSecret)
      const tca = await client.readTcaCertificate()
      return { signKey: e.signKey, ecert: e.ecert.raw, ecaChain: e.ecaCert.raw, tcaChain: tca.raw, chainKey: e.chainKey.length > 0 ? fromUtf8(e.chainKey) : undefined }
    },
    async tcertBatch (enrollID, signKey, count) {
      const batch = await client.getTCerts(enrollID, signKey, count)
      return { kdfKey: batch.kdfKey, tcerts: batch.tcerts.map(t => ({ cert: t.cert.raw, key: t.privateKey })) }
    },
    // As Fabric's getEnrollmentCertByHashFromECA: only a validator's or a peer's certificate will do.
    async enrollmentCertificate (pkiID) {
      const cert = await client.readCertificateByHash(pkiID)
      const role = Number(fromUtf8(getExtension(cert, OID_ECERT_SUBJECT_ROLE)))
      if (role !== Role.VALIDATOR && role !== Role.PEER) throw new Error(`Invalid ECertSubjectRole in enrollment certificate for signing. Not a validator or peer: role ${role}`)
      return cert.raw
    }
  }
}

/** The membership calls over `rpc`, at the security level and hash of `security` (core.yaml's security.*). */
export function membershipOver (rpc: CaRpc, security: { hashAlgorithm: string, level: number }, now: () => number): MembershipClient {
  return caMembership(new CaClient({ suite: cryptoSuite(security.hashAlgorithm, security.level), rpc, now }))
}
