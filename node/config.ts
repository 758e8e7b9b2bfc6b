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
  let yaml: string | undefined
  if (options.file !== undefined) {
    try {
      yaml = await readFile(options.file, 'utf8')
    } catch (err) {
      throw new ConfigError(`cannot read config file ${options.file}: ${(err as Error).message}`)
    }
  }
  return loadConfig({ yaml, yamlSource: options.file, env: options.env ?? process.env, chaincodeDevMode: options.chaincodeDevMode })
}

/** The core.yaml a command reads: the one named, else ./core.yaml when present (Fabric looks in the working directory). */
export async function configFileFor (file?: string): Promise<string | undefined> {
  if (file !== undefined) return file
  try {
    await access('core.yaml')
    return 'core.yaml'
  } catch {
    return undefined
  }
}
