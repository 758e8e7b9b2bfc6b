import type { CoreConfig } from '../../src/config/schema.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { fabricVerifier } from '../../src/security/fabric-verifier.ts'
import { CaClient } from '../../src/crypto/fabric/ca-client.ts'
import { caMembership } from '../../src/security/ca-membership.ts'
import { Keystore, type MembershipClient } from '../../src/security/keystore.ts'
import type { NodeSecurity } from '../../src/security/member.ts'
import { errorMessage } from '../../src/util/errors.ts'
import { createLogger } from '../../src/util/logger.ts'
import type { Scheduler } from '../../src/util/scheduler.ts'
import { createCaRpc } from '../ca/client.ts'
import { memberFiles } from './member-files.ts'

const log = createLogger('crypto')

/** How long one call to membership services may take before the peer gives up on it. */
const CA_TIMEOUT = 10_000

/** The CA at peer.pki.eca.paddr / tca.paddr over gRPC (closed when the peer stops). */
export async function caMembershipClient (config: CoreConfig, scheduler: Scheduler): Promise<{ client: MembershipClient, close: () => void }> {
  const { pki } = config.peer
  const rpc = await createCaRpc({ eca: pki.eca.paddr, tca: pki.tca.paddr, tlsca: pki.tlsca.paddr, timeout: CA_TIMEOUT })
  const client = new CaClient({ suite: cryptoSuite(config.security.hashAlgorithm, config.security.level), rpc, now: () => scheduler.now() })
  return { client: caMembership(client, rpc), close: rpc.close }
}

/**
 * Fabric's getSecHelper at start: the peer registers as security.enrollID (a validator under
 * crypto/validator, else crypto/peer) unless its keys are already in peer.fileSystemPath, then
 * runs with them. A peer that cannot enroll does not start, and says which CA it tried.
 */
export async function enrollNode (config: CoreConfig, client: MembershipClient, scheduler: Scheduler): Promise<NodeSecurity> {
  const { enrollID, enrollSecret, hashAlgorithm, level, tcert } = config.security
  const suite = cryptoSuite(hashAlgorithm, level)
  const keystore = new Keystore(suite, memberFiles(config.peer.fileSystemPath), client, tcert.batch.size)
  const kind = config.peer.validator.enabled ? 'validator' : 'peer'
  let self = await keystore.open(kind, enrollID)
  if (self === undefined) {
    try {
      self = await keystore.enroll(kind, enrollID, enrollSecret)
    } catch (err) {
      throw new Error(`cannot enroll ${kind} ${enrollID} with membership services at ${config.peer.pki.eca.paddr} (peer.pki.eca.paddr): ${errorMessage(err)}`)
    }
    log.info(`Enrolled ${kind} ${enrollID} with membership services at ${config.peer.pki.eca.paddr}`)
  }
  return {
    self,
    keystore,
    verifier: fabricVerifier(suite, self.roots, () => scheduler.now()),
    enrollmentCertificate: pkiID => client.enrollmentCertificate(pkiID)
  }
}
