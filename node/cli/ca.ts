import { Command } from 'commander'
import type { MembersrvcConfig } from '../../src/ca/config.ts'
import { parseLogSpec } from '../../src/util/log-spec.ts'
import { setLogLevels } from '../../src/util/logger.ts'
import type { serveCa as ServeCa } from '../ca/serve.ts'
import { loadCaNodeConfig } from '../config.ts'
import { untilStopped } from './node.ts'

/** Fabric's LoggingInit per CA module: logging.server is the default, logging.<module> each module's level; --logging-level over all. */
function initCaLogging (logging: MembersrvcConfig['logging'], flag?: string): void {
  const { server, ...modules } = logging
  const spec = flag !== undefined && flag !== '' ? flag : [server, ...Object.entries(modules).map(([m, level]) => `${m}=${level}`)].join(':')
  const parsed = parseLogSpec(spec)
  setLogLevels(parsed.defaultLevel, parsed.modules)
}

async function start (opts: { config?: string, dataDir?: string, loggingLevel?: string }): Promise<void> {
  const { config, file } = await loadCaNodeConfig(opts.config)
  initCaLogging(config.logging, opts.loggingLevel)
  // Loaded here, not at start: gRPC and LevelDB cost every other verb their load time.
  const { serveCa } = await import('../ca/serve.ts') as { serveCa: typeof ServeCa }
  const running = await serveCa(config, opts.dataDir)
  const users = (await running.services.store.allUsers()).length
  const authorities = config.aca.enabled ? 'ECA, TCA, TLSCA, ACA' : 'ECA, TCA, TLSCA'
  console.log(`Weft membership services started (${authorities}; security level ${config.security.level}, ${config.security.hashAlgorithm}), ${users} users, config ${file ?? '(membersrvc.yaml\'s values built in)'}`)
  console.log(`  gRPC   ${running.grpc.address}${config.security.tls_enabled ? ' (TLS)' : ''}`)
  console.log(`  data   ${running.dataDir} (eca.cert, tca.cert, tlsca.cert)`)
  await untilStopped(running, sig => `\n${sig}`)
}

/** `weft ca start`: membership services, as Fabric's membersrvc. */
export function caCommand (): Command {
  const ca = new Command('ca').description('membership services (Fabric\'s membersrvc: ECA, TCA, TLSCA on one gRPC port)')
  ca.command('start')
    .description('start membership services (config: --config, else ./membersrvc.yaml, else the one shipped with Weft; MEMBERSRVC_CA_* environment variables over it)')
    .option('--config <file>', 'membersrvc.yaml to read')
    .option('--data-dir <dir>', 'where the database and CA certificates live (default: server.rootpath/server.cadir)')
    .option('--logging-level <spec>', 'default level and module overrides, e.g. "info:eca,tca=debug" (over logging.server and logging.<module>)')
    .action(start)
  return ca
}
