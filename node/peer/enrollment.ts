import type { CoreConfig } from '../../src/config/schema.ts'
import type { CaRpc } from '../../src/crypto/fabric/ca-rpc.ts'
import { membershipOver } from '../../src/security/ca-membership.ts'
import type { MembershipClient } from '../../src/security/keystore.ts'
import type { Scheduler } from '../../src/util/scheduler.ts'
import { createCaRpc } from '../ca/client.ts'

/** How long one call to membership services may take before the peer gives up on it. */
const CA_TIMEOUT = 10_000

/** The CA at peer.pki.eca.paddr / tca.paddr over gRPC (closed when the peer stops); `rpc` is what the peer relays to browser tabs. */
export async function caMembershipClient (config: CoreConfig, scheduler: Scheduler): Promise<{ client: MembershipClient, rpc: CaRpc, close: () => void }> {
  const { pki } = config.peer
  // As Fabric's node: TLS trusts peer.pki.tls.rootcert.file and expects the name "tlsca" unless overridden.
  const tls = pki.tls.enabled ? { rootCertFile: pki.tls.rootcert.file, serverNameOverride: pki.tls.serverhostoverride === '' ? 'tlsca' : pki.tls.serverhostoverride } : undefined
  const rpc = await createCaRpc({ eca: pki.eca.paddr, tca: pki.tca.paddr, tlsca: pki.tlsca.paddr, tls, timeout: CA_TIMEOUT })
  return { client: membershipOver(rpc, config.security, () => scheduler.now()), rpc, close: rpc.close }
}
