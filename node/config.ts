import { access, readFile } from 'node:fs/promises'
import { loadConfig, ConfigError, type CoreConfig } from '../src/config/index.ts'

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

/** The text of a config file, if one is named; ConfigError naming it when it cannot be read. */
export async function readConfigFile (file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return undefined
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`)
  }
}

/** The config file a command reads: the one named, else ./core.yaml (or `name`) when present (Fabric looks in the working directory). */
export async function configFileFor (file?: string, name = 'core.yaml'): Promise<string | undefined> {
  if (file !== undefined) return file
  try {
    await access(name)
    return name
  } catch {
    return undefined
  }
}
