// Keeps the logger's lines to the test: quiet runs, and the lines at hand to print when a test
// fails. Tests assert behaviour, not these lines; the exceptions read what only an operator is
// told: which peer.limits setting refused connections (test/faults/connection-limits.test.ts) and
// that the disk is full (test/faults/storage-full.test.ts).
import { setLogSink, type LogLevel } from '../../src/util/logger.ts'

export interface LogLine { level: Exclude<LogLevel, 'silent'>, name: string, msg: string }

export interface CapturedLogs {
  readonly lines: LogLine[]
  /** The lines above debug, one a line, for a failure message. */
  dump (): string
  /** Prints to the console again. */
  restore (): void
}

export function captureLogs (): CapturedLogs {
  const lines: LogLine[] = []
  setLogSink((level, name, msg) => { lines.push({ level, name, msg }) })
  return {
    lines,
    dump: () => lines.filter(l => l.level !== 'debug').map(l => `${l.level} [${l.name}] ${l.msg}`).join('\n'),
    restore: () => setLogSink((level, name, msg, args) => {
      const line = `${level.toUpperCase()} [${name}] ${msg}`
      if (level === 'error' || level === 'warn') console.error(line, ...args)
      else console.log(line, ...args)
    })
  }
}
