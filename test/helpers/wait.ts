// The one "wait until it holds" of the tests, on real time (test/sim waits in virtual time with
// its own runFor).

export interface WaitOptions {
  /** Default 10 s. */
  timeoutMs?: number
  /** Between two probes; default 5 ms (a probe that costs a request wants more). */
  everyMs?: number
  /** Said after the timeout, e.g. the tail of the processes' output. */
  context?: () => string
}

/**
 * Probes until `probe` gives something other than undefined, null or false, and resolves with
 * it. A probe that throws has not held yet (a server still starting): the timeout error names
 * `what`, the last value or error, and `context`.
 */
export async function waitFor<T> (what: string, probe: () => T | Promise<T>, options: WaitOptions | number = {}): Promise<Exclude<T, undefined | null | false>> {
  const { timeoutMs = 10_000, everyMs = 5, context } = typeof options === 'number' ? { timeoutMs: options } : options
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      last = await probe()
      if (last !== undefined && last !== null && last !== false) return last as Exclude<T, undefined | null | false>
    } catch (err) {
      last = err
    }
    if (Date.now() >= deadline) break
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${shown(last)})${context === undefined ? '' : `\n${context()}`}`)
}

function shown (value: unknown): string {
  if (value instanceof Error) return `error ${value.message}`
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}
