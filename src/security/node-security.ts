import type { CoreConfig } from '../config/schema.ts'
import { cryptoSuite } from '../crypto/fabric/suite.ts'
import { errorMessage } from '../util/errors.ts'
import { createLogger } from '../util/logger.ts'
import type { Scheduler } from '../util/scheduler.ts'
import { fabricVerifier } from './fabric-verifier.ts'
import { Keystore, type MembershipClient, type RawStore } from './keystore.ts'
import type { NodeSecurity } from './member.ts'

const log = createLogger('crypto')

/**
 * Fabric's getSecHelper at start: the peer registers as security.enrollID (a validator under
 * crypto/validator, else crypto/peer) unless its keys are already kept, then runs with them.
 * A peer that cannot enroll does not start, and says which CA it tried.
 */
export async function enrollNode (config: CoreConfig, client: MembershipClient, raw: RawStore, scheduler: Scheduler): Promise<NodeSecurity> {
  const { enrollID, enrollSecret, hashAlgorithm, level, tcert } = config.security
  const suite = cryptoSuite(hashAlgorithm, level)
  const keystore = new Keystore(suite, raw, client, tcert.batch.size)
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
