/**
 * The text of anything thrown, for logs and answers: never "undefined". Covers errors without a
 * message (their name), AggregateErrors (their causes), gRPC statuses ({ code, details }) and
 * DOM events (their type), which transports throw or reject with.
 */
export function errorMessage (err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return [...new Set(err.errors.map(errorMessage))].join('; ')
  }
  if (err instanceof Error) return err.message !== '' ? err.message : err.name
  if (typeof err === 'object' && err !== null) {
    const o = err as { message?: unknown, details?: unknown, code?: unknown, type?: unknown }
    if (typeof o.message === 'string' && o.message !== '') return o.message
    if (typeof o.details === 'string' && o.details !== '') return o.details
    if (typeof o.type === 'string') return `${o.type} event`
    if (o.code !== undefined) return `code ${String(o.code)}`
  }
  return err === undefined || err === null ? 'no reason given' : String(err)
}
