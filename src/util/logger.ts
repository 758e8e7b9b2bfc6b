import { repeatLimiter } from './log-repeats.ts'
import { systemScheduler } from './scheduler.ts'

/**
 * A tiny platform-free logger. Levels below a logger's threshold print nothing; thresholds come
 * from `setLogLevel` (one for all) or `setLogLevels` (a default and per-module levels: the CLI
 * maps Fabric's `logging.node` / `CORE_LOGGING_LEVEL` spec onto it, see log-spec.ts).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

export interface Logger {
  debug (msg: string, ...args: unknown[]): void
  info (msg: string, ...args: unknown[]): void
  warn (msg: string, ...args: unknown[]): void
  error (msg: string, ...args: unknown[]): void
}

export type LogSink = (level: Exclude<LogLevel, 'silent'>, name: string, msg: string, args: unknown[]) => void

let threshold: number = rank.info
let moduleLevels = new Map<string, number>()
// Each logger's threshold, worked out on first use after the levels last changed.
const resolved = new Map<string, number>()
let sink: LogSink = (level, name, msg, args) => {
  const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${name}] ${msg}`
  if (level === 'error' || level === 'warn') console.error(line, ...args)
  else console.log(line, ...args)
}

export function setLogLevel (level: LogLevel): void { setLogLevels(level, {}) }

/**
 * `defaultLevel` for every logger except the modules named: a module's level covers the loggers
 * below it too ("consensus" covers "consensus/pbft"), the most specific name winning.
 */
export function setLogLevels (defaultLevel: LogLevel, modules: Readonly<Record<string, LogLevel>>): void {
  threshold = rank[defaultLevel]
  moduleLevels = new Map(Object.entries(modules).map(([m, l]) => [m, rank[l]]))
  resolved.clear()
}

function thresholdOf (name: string): number {
  let r = resolved.get(name)
  if (r === undefined) {
    r = threshold
    for (let at = name; at !== ''; at = at.slice(0, Math.max(0, at.lastIndexOf('/')))) {
      const l = moduleLevels.get(at)
      if (l !== undefined) { r = l; break }
    }
    resolved.set(name, r)
  }
  return r
}

export function setLogSink (s: LogSink): void { sink = s }

/** Warnings that repeat are held back: one of a kind per logger every 10 s, with a count of the rest. */
const warnings = repeatLimiter(() => systemScheduler.now())

export function createLogger (name: string): Logger {
  const at = (level: Exclude<LogLevel, 'silent'>) => (msg: string, ...args: unknown[]) => {
    if (rank[level] < thresholdOf(name)) return
    const text = level === 'warn' ? warnings.admit(name, msg) : msg
    if (text !== undefined) sink(level, name, text, args)
  }
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}
