// The core's log lines in the tab: kept (the last 300) for the Peer view. ?log=debug|info|warn|error
// sets the threshold (default info); the console gets warnings and errors, and everything at
// the threshold when ?log= is given (a busy demo network logs a lot, and consoles are slow).
import { setLogLevel, setLogSink, type LogLevel } from '../../src/util/logger.ts'

export interface LogLine { time: number, level: string, name: string, msg: string }

export const logLines: LogLine[] = []
const listeners = new Set<() => void>()

export function onLog (l: () => void): () => void {
  listeners.add(l)
  return () => listeners.delete(l)
}

export function installLogSink (level: string | null): void {
  const explicit = ['debug', 'info', 'warn', 'error'].includes(level ?? '')
  const lv = (explicit ? level : 'info') as LogLevel
  setLogLevel(lv)
  setLogSink((lvl, name, msg, args) => {
    logLines.push({ time: Date.now(), level: lvl, name, msg })
    if (logLines.length > 300) logLines.splice(0, logLines.length - 300)
    const line = `${lvl.toUpperCase()} [${name}] ${msg}`
    if (lvl === 'error') console.error(line, ...args)
    else if (lvl === 'warn') console.warn(line, ...args)
    else if (explicit) console.debug(line, ...args)
    for (const l of listeners) l()
  })
}
