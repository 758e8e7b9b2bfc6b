/**
 * Splits a Go-style listen address ("0.0.0.0:7050", "[::1]:7051", ":7053") into what
 * Node's listen() takes. An empty host means every interface, as in Go.
 */
export function parseListenAddress (address: string, key: string): { host: string, port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(address.trim())
  if (m === null) throw new Error(`${key}: "${address}" is not a host:port address`)
  const port = Number(m[3])
  if (port > 65535) throw new Error(`${key}: port ${port} is out of range`)
  const host = m[1] ?? m[2]
  return { host: host === '' ? '0.0.0.0' : host, port }
}

/** host:port for URLs and logs, with IPv6 hosts bracketed. */
export function formatHostPort (host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/**
 * The host:port to dial for an address as core.yaml writes it (peer.address,
 * peer.discovery.rootnode): an unspecified host (empty, 0.0.0.0, ::) means this machine.
 */
export function dialAddress (address: string, key: string): string {
  const { host, port } = parseListenAddress(address, key)
  if (port === 0) throw new Error(`${key}: "${address}" has no port to dial`)
  if (!validHost(host)) throw new Error(`${key}: "${address}" does not name a host (an IP address or a DNS name)`)
  return formatHostPort(host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host, port)
}

/** An IPv4 address with every octet ≤ 255, an IPv6 address, or a DNS name (RFC 1123 labels). */
function validHost (host: string): boolean {
  if (host.includes(':')) return /^[0-9a-fA-F:.]+$/.test(host)
  if (/^[\d.]+$/.test(host)) {
    const parts = host.split('.')
    return parts.length === 4 && parts.every(p => p !== '' && p.length <= 3 && Number(p) <= 255)
  }
  return host.length <= 253 && host.split('.').every(l => /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(l))
}
