// Keeps the logger's lines to the test: quiet runs, and the lines at hand when a test fails.
import { setLogSink, type LogLevel } from '../../src/util/logger.ts'

export interface LogLine { level: Exclude<LogLevel, 'silent'>, name: string, msg: string }

/** Collects log lines (and keeps tests quiet); call the returned function's restore() after. */
export function captureLogs (): { lines: LogLine[], find: (re: RegExp) => LogLine | undefined, restore: () => void } {
  const lines: LogLine[] = []
  setLogSink((level, name, msg) => { lines.push({ level, name, msg }) })
  return {
    lines,
    find: re => lines.find(l => re.test(l.msg)),
    restore: () => setLogSink((level, name, msg, args) => {
      const line = `${level.toUpperCase()} [${name}] ${msg}`
      if (level === 'error' || level === 'warn') console.error(line, ...args)
      else console.log(line, ...args)
    })
  }
}
