import { parse as parseYaml } from 'yaml'
import { isField, type Field, type Schema } from './fields.ts'
import { coreSchema, type CoreConfig } from './schema.ts'

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export interface LoadConfigOptions {
  /** Text of a core.yaml (Fabric's layout; may also hold `noops:` and `pbft:` sections). */
  yaml?: string
  /** Where the YAML came from, for error messages. */
  yamlSource?: string
  /** Environment (process.env in Node); CORE_* entries override the file. */
  env?: Readonly<Record<string, string | undefined>>
  /** `--peer-chaincodedev`: validator on, chaincode mode dev (overrides everything, as viper.Set does); the consensus plugin stays as configured, as in Fabric. */
  chaincodeDevMode?: boolean
}

type Obj = Record<string, unknown>
const isMap = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** CORE_ + the dotted key in capitals with `_` (viper's AutomaticEnv with a "." → "_" replacer). */
export function envName (path: readonly string[]): string {
  return prefixedEnvName('CORE', path)
}

/** viper's name for a key under another env prefix (MEMBERSRVC_CA for membersrvc.yaml). */
export function prefixedEnvName (prefix: string, path: readonly string[]): string {
  return `${prefix}_${path.join('_').toUpperCase()}`
}

/** Every leaf key of the schema as its path, in schema order. */
export function configKeys (schema: Schema = coreSchema): string[][] {
  const out: string[][] = []
  const walk = (node: Schema, at: string[]): void => {
    for (const [k, v] of Object.entries(node)) {
      if (isField(v)) out.push([...at, k])
      else walk(v, [...at, k])
    }
  }
  walk(schema, [])
  return out
}

function defaults (node: Schema): Obj {
  const out: Obj = {}
  for (const [k, v] of Object.entries(node)) out[k] = isField(v) ? structuredClone(v.default) : defaults(v)
  return out
}

function coerceAt (field: Field<unknown>, raw: unknown, where: string): unknown {
  try {
    return field.coerce(raw)
  } catch (err) {
    throw new ConfigError(`${where}: ${(err as Error).message}`)
  }
}

/** Applies a parsed YAML map onto `target`; keys match case-insensitively, as viper's do. */
function applyYaml (node: Schema, target: Obj, yaml: Obj, at: string[], source: string): void {
  const byLower = new Map(Object.keys(node).map(k => [k.toLowerCase(), k]))
  for (const [rawKey, value] of Object.entries(yaml)) {
    const key = byLower.get(rawKey.toLowerCase())
    const path = [...at, rawKey].join('.')
    if (key === undefined) {
      const hint = rawKey === 'true' || rawKey === 'false' ? ' (YAML 1.1 reads unquoted y/n/yes/no/on/off keys as booleans: quote the key)' : ''
      throw new ConfigError(`${source}: unknown config key "${path}"${hint}`)
    }
    const child = node[key]
    if (value === null || value === undefined) continue // an empty YAML value leaves the default, as viper does
    if (isField(child)) {
      target[key] = coerceAt(child, value, `${source}: key "${path}"`)
    } else {
      if (!isMap(value)) throw new ConfigError(`${source}: key "${path}" must be a map of settings`)
      applyYaml(child, target[key] as Obj, value, [...at, key], source)
    }
  }
}

function applyEnv (node: Schema, target: Obj, env: Readonly<Record<string, string | undefined>>, at: string[], prefix: string): void {
  for (const [k, v] of Object.entries(node)) {
    const path = [...at, k]
    if (!isField(v)) { applyEnv(v, target[k] as Obj, env, path, prefix); continue }
    if (v.kind === 'map') continue
    const name = prefixedEnvName(prefix, path)
    const text = env[name]
    if (text === undefined || text === '') continue // viper ignores empty variables
    target[k] = coerceAt(v, text, `environment ${name} (key "${path.join('.')}")`)
  }
}

/** What a config file and the environment hold for one schema (core.yaml's, membersrvc.yaml's). */
export interface SchemaSources {
  yaml?: string
  /** Where the YAML came from, for error messages. */
  yamlSource: string
  env?: Readonly<Record<string, string | undefined>>
  /** viper's env prefix: CORE for the peer, MEMBERSRVC_CA for membership services. */
  envPrefix: string
}

/** The schema's defaults ← YAML text ← PREFIX_* environment, typed; ConfigError names any bad key. */
export function loadSchema<C> (schema: Schema, sources: SchemaSources): C {
  const config = defaults(schema)
  const source = sources.yamlSource
  if (sources.yaml !== undefined) {
    let doc: unknown
    try {
      doc = parseYaml(sources.yaml, { version: '1.1' })
    } catch (err) {
      throw new ConfigError(`${source}: not valid YAML: ${(err as Error).message}`)
    }
    if (doc !== null && doc !== undefined) {
      if (!isMap(doc)) throw new ConfigError(`${source}: expected a map of settings at the top level`)
      applyYaml(schema, config, doc, [], source)
    }
  }
  if (sources.env !== undefined) applyEnv(schema, config, sources.env, [], sources.envPrefix)
  return config as C
}

/**
 * Builds the peer's config: core.yaml defaults ← YAML text ← CORE_* environment ← dev-mode
 * overrides. Throws ConfigError naming the key for anything unknown or malformed, and for
 * privacy without security (the seed refuses to start then).
 */
export function loadConfig (options: LoadConfigOptions = {}): CoreConfig {
  const config = loadSchema<CoreConfig>(coreSchema, { yaml: options.yaml, yamlSource: options.yamlSource ?? 'core.yaml', env: options.env, envPrefix: 'CORE' })
  if (options.chaincodeDevMode === true) {
    // Fabric's dev mode writes peer.validator.consensus (not .plugin), so the configured plugin
    // stays in force, whatever its "Set consensus to NOOPS" log line says.
    config.peer.validator.enabled = true
    config.chaincode.mode = 'dev'
  }
  checkConfig(config)
  return config
}

/** Rules across keys, checked once every source is applied. */
export function checkConfig (config: CoreConfig): void {
  if (config.security.privacy && !config.security.enabled) {
    throw new ConfigError('Privacy cannot be enabled as requested because security is disabled')
  }
}
