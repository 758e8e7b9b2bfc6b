// The core's log lines in the tab: kept (the last 300) for the Logs view. Which lines are made is
// Fabric's logging spec (a default level and module=level overrides, "warning:peer=debug"), set
// from the Logs view and kept in localStorage; ?log=SPEC overrides it for one page load. The
// console gets warnings and errors, and everything made when ?log= is given (a busy demo network
// logs a lot, and consoles are slow).
import { parseLogSpec, type LogSpec } from '../../src/util/log-spec.ts'
import { setLogLevels, setLogSink } from '../../src/util/logger.ts'

export interface LogLine { time: number, level: string, name: string, msg: string }

export const logLines: LogLine[] = []
const listeners = new Set<() => void>()
const STORE_KEY = 'weft.logging'
const DEFAULT_SPEC = 'info'
let current = DEFAULT_SPEC

export function onLog (l: () => void): () => void {
  listeners.add(l)
  return () => listeners.delete(l)
}

/** The logging spec in effect. */
export function logSpec (): string { return current }

/** Sets the levels from a Fabric logging spec; unless `keep` is false, remembers it for the next page loads. */
export function applyLogSpec (spec: string, keep = true): LogSpec {
  const parsed = parseLogSpec(spec)
  setLogLevels(parsed.defaultLevel, parsed.modules)
  current = spec.trim() === '' ? DEFAULT_SPEC : spec.trim()
  if (keep) {
    try { localStorage.setItem(STORE_KEY, current) } catch { /* storage refused: this page only */ }
  }
  return parsed
}

function storedSpec (): string | null {
  try { return localStorage.getItem(STORE_KEY) } catch { return null }
}

export function installLogSink (param: string | null): void {
  const explicit = param !== null && param.trim() !== ''
  applyLogSpec(explicit ? param : storedSpec() ?? DEFAULT_SPEC, false)
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
