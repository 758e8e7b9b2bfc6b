/**
 * Go's net/http + gocraft/web path handling, so fastify's router sees what Fabric's saw:
 * the path is percent-decoded first (an encoded "/" separates segments too), split on "/",
 * one leading and one trailing empty segment dropped, and the query string ignored.
 * Returns the path re-encoded segment by segment, or undefined when an escape is malformed
 * (Go's server then answers 400 before any handler runs).
 */
export function goRoutePath (rawUrl: string): string | undefined {
  // Most requests: segments of unreserved characters only, which all the steps below leave as they are.
  if (plainPath.test(rawUrl)) return rawUrl
  let path = rawUrl
  if (/^https?:\/\//i.test(path)) path = path.replace(/^https?:\/\/[^/?#]*/i, '') || '/'
  const q = path.search(/[?#]/)
  if (q >= 0) path = path.slice(0, q)
  if (!path.startsWith('/')) return path // e.g. "OPTIONS *": matches no route
  const decoded = percentDecode(path)
  if (decoded === undefined) return undefined
  const segments = decoded.split('/')
  segments.shift()
  if (segments.length > 0 && segments[segments.length - 1] === '') segments.pop()
  return '/' + segments.map(encodeURIComponent).join('/')
}

const plainPath = /^(\/[A-Za-z0-9._~-]+)+$/

const utf8 = new TextDecoder('utf-8', { fatal: false })

/** url.PathUnescape: every % must start a two-digit hex escape; bytes are then read as UTF-8. */
function percentDecode (s: string): string | undefined {
  if (!s.includes('%')) return s
  const bytes: number[] = []
  const enc = new TextEncoder()
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '%') { bytes.push(...enc.encode(s[i])); continue }
    const hex = s.slice(i + 1, i + 3)
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined
    bytes.push(parseInt(hex, 16))
    i += 2
  }
  return utf8.decode(new Uint8Array(bytes))
}
