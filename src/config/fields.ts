import { parseGoDuration } from './duration.ts'

/**
 * One config key: its kind, its default (as Fabric's core.yaml has it) and how text from the
 * environment or YAML is turned into a value. Coercion follows viper/cast where that is
 * well-defined, and refuses what viper would silently turn into a zero value.
 */
export interface Field<T> {
  readonly kind: 'string' | 'bool' | 'int' | 'duration' | 'list' | 'map'
  readonly default: T
  /** Turns a YAML value or an environment string into the typed value; throws a message without the key. */
  coerce (raw: unknown): T
}

function describe (v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'object') return 'a map'
  return typeof v === 'string' ? `"${v}"` : String(v)
}

function asText (raw: unknown): string {
  if (typeof raw === 'string') return raw
  if (typeof raw === 'number' || typeof raw === 'bigint' || typeof raw === 'boolean') return String(raw)
  throw new Error(`expected a string, got ${describe(raw)}`)
}

/**
 * A string; with `choices`, one of them (matched case-insensitively, held lower-case). `what`
 * names the setting in the refusal as Fabric does ("Invalid PBFT mode: x").
 */
export function str (def: string): Field<string>
export function str<C extends string> (def: C, choices: readonly C[], what?: string): Field<C>
export function str (def: string, choices?: readonly string[], what?: string): Field<string> {
  return {
    kind: 'string',
    default: def,
    coerce (raw) {
      const s = asText(raw)
      if (choices === undefined) return s
      const hit = choices.find(c => c === s.toLowerCase())
      if (hit !== undefined) return hit
      throw new Error(what === undefined ? `"${s}" is not one of ${choices.join(', ')}` : `Invalid ${what}: ${s} (expected one of ${choices.join(', ')})`)
    }
  }
}

// strconv.ParseBool's accepted spellings.
const truthy = new Set(['1', 't', 'T', 'TRUE', 'true', 'True'])
const falsy = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False'])

export function bool (def: boolean): Field<boolean> {
  return {
    kind: 'bool',
    default: def,
    coerce (raw) {
      if (typeof raw === 'boolean') return raw
      if (raw === 0 || raw === 1) return raw === 1
      if (typeof raw === 'string') {
        if (truthy.has(raw.trim())) return true
        if (falsy.has(raw.trim())) return false
      }
      throw new Error(`expected a boolean (true/false/1/0), got ${describe(raw)}`)
    }
  }
}

/** strconv.ParseInt(s, 0, 64): decimal, 0x hex, 0o or leading-0 octal, 0b binary. */
export function parseGoInt (text: string): number {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(text.trim())
  if (m === null) throw new Error(`expected an integer, got "${text}"`)
  const body = m[2]
  let n: number
  if (/^0[xXoObB]/.test(body)) n = Number(body.toLowerCase())
  else if (body.length > 1 && body.startsWith('0')) n = parseInt(body.slice(1), 8)
  else n = Number(body)
  if (!Number.isSafeInteger(n)) throw new Error(`integer "${text}" is out of range`)
  return m[1] === '-' ? -n : n
}

export function int (def: number, min?: number): Field<number> {
  return {
    kind: 'int',
    default: def,
    coerce (raw) {
      let n: number
      if (typeof raw === 'number') {
        if (!Number.isSafeInteger(raw)) throw new Error(`expected an integer, got ${raw}`)
        n = raw
      } else if (typeof raw === 'string') {
        n = parseGoInt(raw)
      } else {
        throw new Error(`expected an integer, got ${describe(raw)}`)
      }
      if (min !== undefined && n < min) throw new Error(`must be at least ${min}, got ${n}`)
      return n
    }
  }
}

/**
 * A Go duration, held in milliseconds. `bare` says what a unitless number means where
 * Fabric reads the key: noops' block.wait appends "s"; viper's GetDuration (cast) reads
 * nanoseconds; keys read with time.ParseDuration accept only "0".
 */
export function duration (def: string, bare: 'seconds' | 'nanoseconds' | 'refuse', nonNegative = false): Field<number> {
  const fromBare = (n: number): number => {
    if (bare === 'seconds') return n * 1000
    if (bare === 'nanoseconds') return n / 1e6
    if (n === 0) return 0
    throw new Error(`duration ${n} needs a unit (e.g. ${n}s or ${n}ms)`)
  }
  const read = (raw: unknown): number => {
    if (typeof raw === 'number') return fromBare(raw)
    if (typeof raw !== 'string') throw new Error(`expected a duration such as 1s, got ${describe(raw)}`)
    const s = raw.trim()
    if (/^[+-]?\d+$/.test(s)) return fromBare(Number(s))
    return parseGoDuration(s)
  }
  return {
    kind: 'duration',
    default: parseGoDuration(def),
    coerce (raw) {
      const ms = read(raw)
      if (nonNegative && ms < 0) throw new Error(`must not be negative, got ${describe(raw)}`)
      return ms
    }
  }
}

/**
 * A list of strings: a YAML sequence, or text separated by commas and/or whitespace. With
 * `choices`, each item must be one of them, exactly.
 */
export function list (def: readonly string[]): Field<string[]>
export function list<C extends string> (def: readonly C[], choices: readonly C[]): Field<C[]>
export function list (def: readonly string[], choices?: readonly string[]): Field<string[]> {
  return {
    kind: 'list',
    default: [...def],
    coerce (raw) {
      const items = Array.isArray(raw) ? raw.map(asText) : asText(raw).split(/[\s,]+/).filter(s => s !== '')
      const unknown = choices === undefined ? undefined : items.find(s => !choices.includes(s))
      if (unknown !== undefined) throw new Error(`"${unknown}" is not one of ${choices!.join(', ')}`)
      return items
    }
  }
}

/** A free-form subtree (e.g. vm.docker.hostConfig) passed through as parsed. */
export function map (def: Record<string, unknown>): Field<Record<string, unknown>> {
  return {
    kind: 'map',
    default: def,
    coerce (raw) {
      if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) return raw as Record<string, unknown>
      throw new Error(`expected a map, got ${describe(raw)}`)
    }
  }
}

export type Schema = { readonly [key: string]: Field<unknown> | Schema }

/** The typed config a schema describes. */
export type ConfigOf<S> = { -readonly [K in keyof S]: S[K] extends Field<infer T> ? T : ConfigOf<S[K]> }

export function isField (v: Field<unknown> | Schema): v is Field<unknown> {
  return typeof (v as Field<unknown>).coerce === 'function'
}
