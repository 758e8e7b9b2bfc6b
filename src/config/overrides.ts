import { isField, type Field, type Schema } from './fields.ts'
import { checkConfig, ConfigError } from './load.ts'
import { coreSchema, type CoreConfig } from './schema.ts'

/** Some keys of a config, typed as the config holds them (durations in milliseconds, lists whole). */
export type ConfigOverrides = DeepPartial<CoreConfig>

type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] }

type Obj = Record<string, unknown>
const isMap = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Which JavaScript type each kind of key holds in a loaded config. */
const holds: Record<Field<unknown>['kind'], (v: unknown) => boolean> = {
  string: v => typeof v === 'string',
  bool: v => typeof v === 'boolean',
  int: v => typeof v === 'number',
  duration: v => typeof v === 'number' && Number.isFinite(v),
  list: v => Array.isArray(v) && v.every(x => typeof x === 'string'),
  map: isMap
}

function typed (field: Field<unknown>, value: unknown, path: string): unknown {
  if (!holds[field.kind](value)) {
    const got = typeof value === 'number' ? String(value) : JSON.stringify(value)
    throw new ConfigError(`override of "${path}": expected ${field.kind === 'duration' ? 'a duration in milliseconds' : `a ${field.kind}`}, got ${got}`)
  }
  // A duration already is milliseconds; every other kind is checked as its YAML value would be (choices, minimums).
  if (field.kind === 'duration') return value
  try {
    return field.coerce(value)
  } catch (err) {
    throw new ConfigError(`override of "${path}": ${(err as Error).message}`)
  }
}

function apply (node: Schema, target: Obj, patch: Obj, at: string[]): void {
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue
    const path = [...at, key].join('.')
    const child = Object.hasOwn(node, key) ? node[key] : undefined
    if (child === undefined) throw new ConfigError(`override of unknown config key "${path}"`)
    if (isField(child)) {
      target[key] = structuredClone(typed(child, value, path))
    } else {
      if (!isMap(value)) throw new ConfigError(`override of "${path}" must be a map of settings`)
      apply(child, target[key] as Obj, value, [...at, key])
    }
  }
}

/**
 * `config` with `overrides` applied, each value checked as loadConfig checks the YAML and
 * environment (ConfigError naming the key), so code sets keys by type, never as CORE_* text.
 */
export function withOverrides (config: CoreConfig, overrides: ConfigOverrides): CoreConfig {
  const out = structuredClone(config)
  apply(coreSchema, out as unknown as Obj, overrides as Obj, [])
  checkConfig(out)
  return out
}
