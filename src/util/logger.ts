import { repeatLimiter } from './log-repeats.ts'
import { systemScheduler } from './scheduler.ts'

/**
 * A tiny platform-free logger. Levels below the threshold print nothing; the threshold comes
 * from `setLogLevel` (the CLI maps `logging.peer` / `CORE_LOGGING_LEVEL` onto it).
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
let sink: LogSink = (level, name, msg, args) => {
  const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${name}] ${msg}`
  if (level === 'error' || level === 'warn') console.error(line, ...args)
  else console.log(line, ...args)
}

export function setLogLevel (level: LogLevel): void { threshold = rank[level] }
export function setLogSink (s: LogSink): void { sink = s }

/** Warnings that repeat are held back: one of a kind per logger every 10 s, with a count of the rest. */
const warnings = repeatLimiter(() => systemScheduler.now())

export function createLogger (name: string): Logger {
  const at = (level: Exclude<LogLevel, 'silent'>) => (msg: string, ...args: unknown[]) => {
    if (rank[level] < threshold) return
    const text = level === 'warn' ? warnings.admit(name, msg) : msg
    if (text !== undefined) sink(level, name, text, args)
  }
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}
