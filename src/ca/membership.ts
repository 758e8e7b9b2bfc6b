import { cryptoRandomBytes, type RandomBytes } from '../crypto/fabric/ec-key.ts'
import type { CaRpc } from '../crypto/fabric/ca-rpc.ts'
import { cryptoSuite } from '../crypto/fabric/suite.ts'
import type { KVStore } from '../storage/kv.ts'
import { createLogger } from '../util/logger.ts'
import type { Scheduler } from '../util/scheduler.ts'
import type { MembersrvcConfig } from './config.ts'
import { ACA } from './aca.ts'
import type { CaContext } from './context.ts'
import { ECA } from './eca.ts'
import { TCA } from './tca.ts'
import { TLSCA } from './tlsca.ts'
import { CaStore } from './store.ts'
import { populate } from './users.ts'

const log = createLogger('server')

export interface MembershipComponents {
  /** Where the tables and the authorities' keys live (LevelDB under `weft ca start`, memory or IndexedDB in a tab). */
  store: KVStore
  scheduler: Scheduler
  /** Defaults to the platform's CSPRNG. */
  randomBytes?: RandomBytes
}

/**
 * Fabric's membersrvc: an ECA, a TCA, a TLSCA and an ACA over one store, their service objects
 * named as ca.proto's services (ecap, ecaa, tcap, tcaa, tlscap, tlscaa, acap) with one method per rpc.
 */
export interface MembershipServices {
  readonly config: MembersrvcConfig
  readonly eca: ECA
  readonly tca: TCA
  readonly tlsca: TLSCA
  /** Served (ACAP) only with aca.enabled, as Fabric; it always keeps the attributes RegisterUser gives. */
  readonly aca: ACA
  readonly store: CaStore
}

/**
 * Opens (on first start: creates) the authorities' keys and certificates, the affiliation
 * groups and the users table of `config`, as Fabric's NewECA/NewTCA/NewTLSCA do.
 */
export async function createMembershipServices (components: MembershipComponents, config: MembersrvcConfig): Promise<MembershipServices> {
  const store = await CaStore.open(components.store)
  const ctx: CaContext = {
    store,
    suite: cryptoSuite(config.security.hashAlgorithm, config.security.level),
    scheduler: components.scheduler,
    randomBytes: components.randomBytes ?? cryptoRandomBytes,
    subject: { organization: config.pki.ca.subject.organization, country: config.pki.ca.subject.country }
  }
  await populate(store, config.eca.affiliations, config.eca.users, ctx.randomBytes)
  // The ACA opens last: it checks the signatures of the ECA and the TCA, which call it later.
  let aca: ACA | undefined
  const eca = await ECA.open(ctx, () => aca!, config.aca.enabled)
  const tca = await TCA.open(ctx, eca, config.aca.enabled ? () => aca! : undefined)
  const tlsca = await TLSCA.open(ctx)
  aca = await ACA.open(ctx, config.aca.attributes, { eca: eca.authority, tca: tca.authority })
  log.info(`membership services ready (security level ${config.security.level}, ${config.security.hashAlgorithm})`)
  return { config, eca, tca, tlsca, aca, store }
}

/** The public services (ECAP, TCAP, TLSCAP) as the CaRpc a client takes, called in process: a CA in a tab, or in a test. */
export function inProcessCaRpc (services: MembershipServices): CaRpc {
  return { ecap: services.eca.ecap, tcap: services.tca.tcap, tlscap: services.tlsca.tlscap } as unknown as CaRpc
}
