// The demo network with security: Weft's membership services running in this tab (src/ca over
// the demo's store), its validators enrolled as Fabric's test_vpN, and one demo user whose TCerts
// sign every transaction. Members' keys live in memory for as long as the demo runs.
import { loadCaConfig } from '../../src/ca/config.ts'
import { createMembershipServices, inProcessCaRpc, type MembershipServices } from '../../src/ca/membership.ts'
import { parseUserEntry } from '../../src/ca/users.ts'
import type { CoreConfig } from '../../src/config/schema.ts'
import { membershipOver } from '../../src/security/ca-membership.ts'
import { memoryRawStore } from '../../src/security/memory-raw-store.ts'
import type { NodeSecurity } from '../../src/security/member.ts'
import { enrollNode } from '../../src/security/node-security.ts'
import type { KVStore } from '../../src/storage/kv.ts'
import type { Scheduler } from '../../src/util/scheduler.ts'

/** The user the demo's deploy and load sign as (one of membersrvc.yaml's clients). */
export const DEMO_USER = 'jim'

export class DemoCa {
  private readonly files = memoryRawStore('', ' (demo CA)')

  private constructor (private readonly services: MembershipServices, private readonly scheduler: Scheduler) {}

  /** Opens the CA's tables and keys in `store` (the demo's storage: memory or IndexedDB). */
  static async start (store: KVStore, scheduler: Scheduler): Promise<DemoCa> {
    return new DemoCa(await createMembershipServices({ store, scheduler }, loadCaConfig()), scheduler)
  }

  /** How many validators the CA's users table can enroll (test_vp0 …). */
  get validators (): number {
    return Object.keys(this.services.config.eca.users).filter(u => /^test_vp\d+$/.test(u)).length
  }

  /** Replica `index`'s security settings: enrolled as test_vp<index> with its secret. */
  settings (index: number): Partial<CoreConfig['security']> {
    const enrollID = `test_vp${index}`
    return { enabled: true, enrollID, enrollSecret: this.secret(enrollID) }
  }

  secret (user: string): string {
    const entry = this.services.config.eca.users[user]
    if (entry === undefined) throw new Error(`the demo CA has no user ${user}`)
    return parseUserEntry(user, String(entry)).secret
  }

  /** Enrolls (or, after a crash, reopens) the replica configured by `config`; every replica shares one key store, so the demo user logs in once. */
  async enroll (config: CoreConfig): Promise<NodeSecurity> {
    const membership = membershipOver(inProcessCaRpc(this.services), config.security, () => this.scheduler.now())
    return await enrollNode(config, membership, this.files, this.scheduler)
  }
}
