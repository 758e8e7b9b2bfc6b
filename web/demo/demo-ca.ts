// The demo network with security: Weft's membership services running in this tab (src/ca over
// the demo's store), its validators enrolled as Fabric's test_vpN, and one demo user whose TCerts
// sign every transaction. Members' keys live in memory for as long as the demo runs.
import { loadCaConfig } from '../../src/ca/config.ts'
import { createMembershipServices, type MembershipServices } from '../../src/ca/membership.ts'
import type { CoreConfig } from '../../src/config/schema.ts'
import { CaClient } from '../../src/crypto/fabric/ca-client.ts'
import type { CaRpc } from '../../src/crypto/fabric/ca-rpc.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { caMembership } from '../../src/security/ca-membership.ts'
import type { RawStore } from '../../src/security/keystore.ts'
import type { NodeSecurity } from '../../src/security/member.ts'
import { enrollNode } from '../../src/security/node-security.ts'
import type { KVStore } from '../../src/storage/kv.ts'
import type { Scheduler } from '../../src/util/scheduler.ts'

/** The user the demo's deploy and load sign as (one of membersrvc.yaml's clients). */
export const DEMO_USER = 'jim'

export class DemoCa {
  private readonly files = new Map<string, string>()

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
    return String(entry).split(/\s+/)[1]
  }

  /** Enrolls (or, after a crash, reopens) the replica configured by `config`; every replica shares one key store, so the demo user logs in once. */
  async enroll (config: CoreConfig): Promise<NodeSecurity> {
    const { hashAlgorithm, level } = config.security
    const rpc = { ecap: this.services.eca.ecap, tcap: this.services.tca.tcap, tlscap: this.services.tlsca.tlscap } as unknown as CaRpc
    const client = new CaClient({ suite: cryptoSuite(hashAlgorithm, level), rpc, now: () => this.scheduler.now() })
    return await enrollNode(config, caMembership(client), this.raw(), this.scheduler)
  }

  private raw (): RawStore {
    const dir = (kind: string, name: string): string => `crypto/${kind}/${name}/ks/raw/`
    const under = (prefix: string): string[] => [...this.files.keys()].filter(k => k.startsWith(prefix))
    return {
      read: async (kind, name, alias) => this.files.get(dir(kind, name) + alias),
      write: async (kind, name, alias, text) => { this.files.set(dir(kind, name) + alias, text) },
      has: async (kind, name) => under(dir(kind, name)).length > 0,
      remove: async (kind, name) => { for (const k of under(dir(kind, name))) this.files.delete(k) },
      missing: (kind, name, alias) => `open ${dir(kind, name)}${alias}: no such file or directory (demo CA)`
    }
  }
}
