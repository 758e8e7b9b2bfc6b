// Users of a security-enabled network, enrolled and signed for in this tab: their keys are kept
// in IndexedDB (member-store.ts) and never leave the tab; only the CA calls of enrollment and
// TCert batches go out, through the Node peer's /weft/ca/0.6.1 relay (or a CA in the tab).
import type { CoreConfig } from '../../src/config/schema.ts'
import type { CaRpc } from '../../src/crypto/fabric/ca-rpc.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { membershipOver } from '../../src/security/ca-membership.ts'
import { Keystore } from '../../src/security/keystore.ts'
import type { Scheduler } from '../../src/util/scheduler.ts'
import { tabMemberStore } from './member-store.ts'

export interface TabUserKeys {
  keystore: Keystore
  /** The users enrolled in this slot, by enrollment id. */
  names (): Promise<string[]>
}

/** The slot's users, enrolled with the CA `rpc` reaches, at the config's security level and hash. */
export function tabUserKeys (slot: number, config: CoreConfig, rpc: CaRpc, scheduler: Scheduler): TabUserKeys {
  const { hashAlgorithm, level, tcert } = config.security
  const suite = cryptoSuite(hashAlgorithm, level)
  const store = tabMemberStore(slot)
  return {
    keystore: new Keystore(suite, store, membershipOver(rpc, config.security, () => scheduler.now()), tcert.batch.size),
    names: () => store.names('client')
  }
}
