// Security-enabled peers on a memory network: Weft's membership services in memory, reached
// in-process (no gRPC), and members' key files in memory.
import { loadCaConfig } from '../../src/ca/config.ts'
import { createMembershipServices, inProcessCaRpc, type MembershipServices } from '../../src/ca/membership.ts'
import type { CoreConfig } from '../../src/config/schema.ts'
import { membershipOver } from '../../src/security/ca-membership.ts'
import type { RawStore } from '../../src/security/keystore.ts'
import { memoryRawStore as memoryKeyFiles } from '../../src/security/memory-raw-store.ts'
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
export const memoryRawStore = (): RawStore => memoryKeyFiles('/mem/')

/** Enrolls a node configured by `config` (security.enrollID/enrollSecret) with `ca`, as serve() does over gRPC. */
export async function enrollInMemory (ca: MembershipServices, config: CoreConfig): Promise<NodeSecurity> {
  return await enrollNode(config, membershipOver(inProcessCaRpc(ca), config.security, () => systemScheduler.now()), memoryRawStore(), systemScheduler)
}
