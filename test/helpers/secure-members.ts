// Security-enabled peers on a memory network: Weft's membership services in memory, reached
// in-process (no gRPC), and members' key files in memory.
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
import { memoryStore } from '../../src/storage/memory.ts'
import { systemScheduler } from '../../src/util/scheduler.ts'

/** Weft's membership services in memory, with Fabric's default users, at `level` and `hashAlgorithm` (default 256, SHA3). */
export async function memoryMembershipServices (level = 256, hashAlgorithm = 'SHA3'): Promise<MembershipServices> {
  const env = { MEMBERSRVC_CA_SECURITY_LEVEL: String(level), MEMBERSRVC_CA_SECURITY_HASHALGORITHM: hashAlgorithm }
  return await createMembershipServices({ store: await memoryStore(), scheduler: systemScheduler }, loadCaConfig({ env }))
}

/** Key files in a map, with Go's wording for a missing one. */
export function memoryRawStore (): RawStore {
  const files = new Map<string, string>()
  const dir = (kind: string, name: string): string => `/mem/crypto/${kind}/${name}`
  return {
    read: async (kind, name, alias) => files.get(`${dir(kind, name)}/ks/raw/${alias}`),
    write: async (kind, name, alias, text) => { files.set(`${dir(kind, name)}/ks/raw/${alias}`, text) },
    has: async (kind, name) => [...files.keys()].some(k => k.startsWith(`${dir(kind, name)}/`)),
    remove: async (kind, name) => { for (const k of [...files.keys()]) if (k.startsWith(`${dir(kind, name)}/`)) files.delete(k) },
    missing: (kind, name, alias) => `open ${dir(kind, name)}/ks/raw/${alias}: no such file or directory`
  }
}

/** Enrolls a node configured by `config` (security.enrollID/enrollSecret) with `ca`, as serve() does over gRPC. */
export async function enrollInMemory (ca: MembershipServices, config: CoreConfig): Promise<NodeSecurity> {
  const rpc = { ecap: ca.eca.ecap, tcap: ca.tca.tcap, tlscap: ca.tlsca.tlscap } as unknown as CaRpc
  const client = new CaClient({ suite: cryptoSuite(config.security.hashAlgorithm, config.security.level), rpc, now: () => systemScheduler.now() })
  return await enrollNode(config, caMembership(client), memoryRawStore(), systemScheduler)
}
