import { errorMessage } from './errors.ts'

/** One log record as a JSON line (no newline): time (ISO 8601, UTC), level, module, msg with its arguments appended. */
export function jsonLogLine (timeMs: number, level: string, module: string, msg: string, args: readonly unknown[]): string {
  const text = args.length === 0 ? msg : [msg, ...args.map(argText)].join(' ')
  return JSON.stringify({ time: new Date(timeMs).toISOString(), level, module, msg: text })
}

function argText (a: unknown): string {
  if (typeof a === 'string') return a
  if (a instanceof Error) return errorMessage(a)
  if (typeof a === 'bigint') return a.toString()
  try {
    return JSON.stringify(a, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v) ?? String(a)
  } catch {
    return String(a)
  }
}
