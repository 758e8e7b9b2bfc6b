// Users of a security-enabled network, enrolled and signed for in this tab: their keys are kept
// in IndexedDB (member-store.ts) and never leave the tab; only the CA calls of enrollment and
// TCert batches go out, through the Node peer's /weft/ca/0.6.1 relay (or a CA in the tab).
import type { CoreConfig } from '../../src/config/schema.ts'
import { CaClient } from '../../src/crypto/fabric/ca-client.ts'
import type { CaRpc } from '../../src/crypto/fabric/ca-rpc.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { caMembership } from '../../src/security/ca-membership.ts'
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
  const client = new CaClient({ suite, rpc, now: () => scheduler.now() })
  return {
    keystore: new Keystore(suite, store, caMembership(client), tcert.batch.size),
    names: () => store.names('client')
  }
}
