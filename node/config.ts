import { access, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadCaConfig, type MembersrvcConfig } from '../src/ca/config.ts'
import { loadConfig, ConfigError, type CoreConfig } from '../src/config/index.ts'
import { errorMessage } from '../src/util/errors.ts'
import { REPO_ROOT } from './web/build.ts'

export interface NodeConfigOptions {
  /** Path of a core.yaml; without one, Fabric's defaults and the environment alone. */
  file?: string
  chaincodeDevMode?: boolean
  env?: Readonly<Record<string, string | undefined>>
}

/** Reads the config file (if any) and process.env, then builds the typed config. */
export async function loadNodeConfig (options: NodeConfigOptions = {}): Promise<CoreConfig> {
  const yaml = await readConfigFile(options.file)
  return loadConfig({ yaml, yamlSource: options.file, env: options.env ?? process.env, chaincodeDevMode: options.chaincodeDevMode })
}

/** The membersrvc.yaml `weft ca start` finds (or the one named) and MEMBERSRVC_CA_* from `env`, as one typed config. */
export async function loadCaNodeConfig (named?: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<{ config: MembersrvcConfig, file: string | undefined }> {
  const file = await caConfigFileFor(named)
  const yaml = await readConfigFile(file)
  return { config: loadCaConfig({ yaml, yamlSource: file, env }), file }
}

async function readConfigFile (file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return undefined
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${errorMessage(err)}`)
  }
}

/**
 * The core.yaml a command reads, looked up as Fabric's peer does: the one named, else
 * $PEER_CFG_PATH/core.yaml, else ./core.yaml, else the one shipped with Weft (Fabric's last
 * place is its source tree). So an installed `weft node start` runs anywhere, on loopback
 * ports with its data in ./data, instead of Fabric's /var/hyperledger/production.
 */
export async function configFileFor (file?: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<string | undefined> {
  const cfgPath = env.PEER_CFG_PATH !== undefined && env.PEER_CFG_PATH !== '' ? [env.PEER_CFG_PATH] : []
  return await findConfigFile('core.yaml', file, cfgPath)
}

/**
 * The membersrvc.yaml `weft ca start` reads, as Fabric's membersrvc looks (./, then its source
 * tree): the one named, else ./membersrvc.yaml, else the one shipped with Weft (loopback port,
 * data in ./data).
 */
export async function caConfigFileFor (file?: string): Promise<string | undefined> {
  return await findConfigFile('membersrvc.yaml', file, [])
}

/** `file` when named, else the first of <dir>/name for `dirs`, ./name, <Weft>/name that exists. */
async function findConfigFile (name: string, file: string | undefined, dirs: string[]): Promise<string | undefined> {
  if (file !== undefined) return file
  for (const place of [...dirs.map(d => join(d, name)), name, join(REPO_ROOT, name)]) {
    try {
      await access(place)
      return place
    } catch {}
  }
  return undefined
}
