/**
 * Reading a plugin's config the way Fabric's viper does for consensus/noops/config.yaml and
 * consensus/pbft/config.yaml: a value from the environment (`<PREFIX>_` + key in capitals with
 * `_` for `.`) wins over the file's value, which wins over the default. The environment is
 * passed in (Node hands process.env; a browser hands nothing), so src/ stays platform-free.
 */
export interface ConfigSource {
  /** Environment variables, e.g. { CORE_PBFT_GENERAL_N: '7' }. */
  env?: Record<string, string | undefined>
  /** The parsed YAML file (nested objects), e.g. { general: { N: 4 } }. */
  values?: Record<string, unknown>
}

/** Raised for a config value that cannot be used; names the key and where it came from. */
export class ConsensusConfigError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ConsensusConfigError'
  }
}

export interface RawValue { value: unknown, from: string }

export function envName (prefix: string, key: string): string {
  return `${prefix}_${key.toUpperCase().replace(/\./g, '_')}`
}

/** The raw value for `key` (dotted path, matched case-insensitively like viper) or undefined. */
export function lookup (source: ConfigSource, prefix: string, key: string): RawValue | undefined {
  const name = envName(prefix, key)
  const fromEnv = source.env?.[name]
  if (fromEnv !== undefined) return { value: fromEnv, from: `environment variable ${name}` }
  let node: unknown = source.values
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object') return undefined
    const entry = Object.entries(node as Record<string, unknown>).find(([k]) => k.toLowerCase() === part.toLowerCase())
    if (entry === undefined) return undefined
    node = entry[1]
  }
  return node === undefined || node === null ? undefined : { value: node, from: `config key ${key}` }
}

function bad (raw: RawValue, what: string): ConsensusConfigError {
  return new ConsensusConfigError(`${raw.from}: ${JSON.stringify(raw.value)} is not ${what}`)
}

/** An integer as Go's strconv.ParseInt(s, 0, 64) reads it (decimal, 0x, 0o, 0b, leading sign). */
export function readInt (raw: RawValue): number {
  if (typeof raw.value === 'number' && Number.isSafeInteger(raw.value)) return raw.value
  if (typeof raw.value !== 'string') throw bad(raw, 'an integer')
  const m = /^([+-]?)(0x[0-9a-f]+|0o?[0-7]+|0b[01]+|[1-9][0-9]*|0)$/i.exec(raw.value.trim())
  if (m === null) throw bad(raw, 'an integer')
  let digits = m[2].toLowerCase()
  if (/^0[0-7]+$/.test(digits)) digits = '0o' + digits.slice(1)
  const n = Number(digits) * (m[1] === '-' ? -1 : 1)
  if (!Number.isSafeInteger(n)) throw bad(raw, 'an integer in range')
  return n
}

/** A boolean as Go's strconv.ParseBool reads it. */
export function readBool (raw: RawValue): boolean {
  if (typeof raw.value === 'boolean') return raw.value
  const s = String(raw.value)
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false
  throw bad(raw, 'a boolean (true/false/1/0)')
}

const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/**
 * A Go duration string ("1s", "200ms", "1m30s", "1.5h", "0") in milliseconds, as time.ParseDuration
 * reads it. `bareUnit` gives the unit for a plain number (noops reads "2" as 2 s); without it a
 * plain number other than 0 is an error, as in Go.
 */
export function readDuration (raw: RawValue, bareUnit?: 's'): number {
  const s = typeof raw.value === 'number' ? String(raw.value) : raw.value
  if (typeof s !== 'string') throw bad(raw, 'a duration')
  const text = s.trim()
  if (/^[+-]?\d+(\.\d+)?$/.test(text)) {
    const n = Number(text)
    if (bareUnit === 's') return n * 1000
    if (n === 0) return 0
    throw bad(raw, 'a duration (missing unit, e.g. "2s" or "500ms")')
  }
  const m = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(text)
  if (m === null) throw bad(raw, 'a duration (e.g. "1s", "200ms", "1m30s")')
  let ms = 0
  for (const part of text.replace(/^[+-]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    ms += Number(part[1]) * unitMs[part[2]]
  }
  return m[1] === '-' ? -ms : ms
}

export function readString (raw: RawValue): string {
  if (typeof raw.value === 'string') return raw.value
  if (typeof raw.value === 'number' || typeof raw.value === 'boolean') return String(raw.value)
  throw bad(raw, 'a string')
}
