import { Command } from 'commander'
import { access, readFile } from 'node:fs/promises'
import { loadCaConfig, type MembersrvcConfig } from '../../src/ca/config.ts'
import { ConfigError } from '../../src/config/load.ts'
import { parseLogSpec } from '../../src/util/log-spec.ts'
import { setLogLevels } from '../../src/util/logger.ts'
import type { serveCa as ServeCa } from '../ca/serve.ts'

/** The membersrvc.yaml a command reads: the one named, else ./membersrvc.yaml when present (Fabric looks in the working directory). */
async function caConfigFile (file?: string): Promise<string | undefined> {
  if (file !== undefined) return file
  try {
    await access('membersrvc.yaml')
    return 'membersrvc.yaml'
  } catch {
    return undefined
  }
}

async function loadFileConfig (file: string | undefined): Promise<MembersrvcConfig> {
  let yaml: string | undefined
  if (file !== undefined) {
    try {
      yaml = await readFile(file, 'utf8')
    } catch (err) {
      throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`)
    }
  }
  return loadCaConfig({ yaml, yamlSource: file, env: process.env })
}

/** Fabric's LoggingInit per CA module: logging.server is the default, logging.<module> each module's level; --logging-level over all. */
function initCaLogging (logging: MembersrvcConfig['logging'], flag?: string): void {
  const { server, ...modules } = logging
  const spec = flag !== undefined && flag !== '' ? flag : [server, ...Object.entries(modules).map(([m, level]) => `${m}=${level}`)].join(':')
  const parsed = parseLogSpec(spec)
  setLogLevels(parsed.defaultLevel, parsed.modules)
}

async function start (opts: { config?: string, dataDir?: string, loggingLevel?: string }): Promise<void> {
  const file = await caConfigFile(opts.config)
  const config = await loadFileConfig(file)
  initCaLogging(config.logging, opts.loggingLevel)
  // Loaded here, not at start: gRPC and LevelDB cost every other verb their load time.
  const { serveCa } = await import('../ca/serve.ts') as { serveCa: typeof ServeCa }
  const running = await serveCa(config, opts.dataDir)
  const users = (await running.services.store.allUsers()).length
  console.log(`Weft membership services started (ECA, TCA, TLSCA; security level ${config.security.level}, ${config.security.hashAlgorithm}), ${users} users, config ${file ?? '(built-in membersrvc.yaml values)'}`)
  console.log(`  gRPC   ${running.grpc.address}${config.security.tls_enabled ? ' (TLS)' : ''}`)
  console.log(`  data   ${running.dataDir} (eca.cert, tca.cert, tlsca.cert)`)
  const onSignal = (sig: NodeJS.Signals): void => {
    console.log(`\n${sig}`)
    void running.stop()
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  await running.stopped
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
}

/** `weft ca start`: membership services, as Fabric's membersrvc. */
export function caCommand (): Command {
  const ca = new Command('ca').description('membership services (Fabric\'s membersrvc: ECA, TCA, TLSCA on one gRPC port)')
  ca.command('start')
    .description('start membership services (config: ./membersrvc.yaml if present, MEMBERSRVC_CA_* environment variables)')
    .option('--config <file>', 'membersrvc.yaml to read')
    .option('--data-dir <dir>', 'where the database and CA certificates live (default: server.rootpath/server.cadir)')
    .option('--logging-level <spec>', 'default level and module overrides, e.g. "info:eca,tca=debug" (over logging.server and logging.<module>)')
    .action(start)
  return ca
}
