import type { LogLevel } from './logger.ts'

/** What a Fabric logging spec sets: the default level, per-module levels, and what was ignored (and why). */
export interface LogSpec {
  defaultLevel: LogLevel
  modules: Record<string, LogLevel>
  ignored: string[]
}

// go-logging's level names (Fabric's), on Weft's four; Weft's own "warn" and "silent" are kept too.
const levels: Record<string, LogLevel> = {
  critical: 'error', error: 'error', warning: 'warn', warn: 'warn', notice: 'info', info: 'info', debug: 'debug', silent: 'silent'
}

/** A level name as Fabric's core.yaml writes it (any case), or undefined. */
export function parseLogLevel (name: string): LogLevel | undefined {
  return Object.hasOwn(levels, name.toLowerCase()) ? levels[name.toLowerCase()] : undefined
}

/**
 * Fabric 0.6's logging spec (`logging.<command>`, `CORE_LOGGING_LEVEL`, `--logging-level`): fields
 * split by ':', each either a default level or `module[,module…]=level`, e.g.
 * "warning:consensus/pbft,peer=debug:rest=info". As Fabric, a bad default falls back to INFO
 * and a bad override is skipped; the last default given wins.
 */
export function parseLogSpec (spec: string, fallback: LogLevel = 'info'): LogSpec {
  const result: LogSpec = { defaultLevel: fallback, modules: {}, ignored: [] }
  if (spec.trim() === '') return result
  for (const field of spec.split(':')) {
    const parts = field.split('=')
    if (parts.length === 1) {
      const level = parseLogLevel(field.trim())
      if (level === undefined) {
        result.ignored.push(`logging level "${field}" not recognized, using ${fallback}`)
        result.defaultLevel = fallback
      } else {
        result.defaultLevel = level
      }
    } else if (parts.length === 2) {
      const level = parseLogLevel(parts[1].trim())
      const modules = parts[0].split(',').map(m => m.trim()).filter(m => m !== '')
      if (level === undefined) result.ignored.push(`invalid logging level in "${field}" ignored`)
      else if (modules.length === 0) result.ignored.push(`logging override "${field}" names no module: ignored`)
      else for (const m of modules) result.modules[m] = level
    } else {
      result.ignored.push(`logging override "${field}" ignored (a ':' missing?)`)
    }
  }
  return result
}
