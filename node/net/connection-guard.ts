import type { Server, Socket } from 'node:net'
import type { CoreConfig } from '../../src/config/schema.ts'
import { createLogger } from '../../src/util/logger.ts'

const log = createLogger('limits')

/** peer.limits.*: what one listener accepts. */
export interface ConnectionLimits {
  /** Open connections on this listener, from everyone. */
  maxConnections: number
  /** Open connections on this listener from one remote address. */
  maxPerAddress: number
}

/** What a listener allows: the caps, and how long a quiet or unfinished connection lives. */
export interface ServerLimits extends ConnectionLimits {
  /** A connection with nothing in progress for this long is closed. */
  idleTimeoutMs: number
  /** A client must finish its handshake (TLS, HTTP/2 preface, request headers) within this. */
  handshakeTimeoutMs: number
}

export const DEFAULT_LIMITS: ServerLimits = { maxConnections: 512, maxPerAddress: 128, idleTimeoutMs: 120_000, handshakeTimeoutMs: 10_000 }

/** peer.limits.* as ServerLimits. */
export function limitsFromConfig (config: CoreConfig): ServerLimits {
  const l = config.peer.limits
  return { maxConnections: l.connections, maxPerAddress: l.connectionsPerAddress, idleTimeoutMs: l.idleTimeout, handshakeTimeoutMs: l.handshakeTimeout }
}

export interface ConnectionGuard {
  /** Open connections by remote address. */
  open (): ReadonlyMap<string, number>
  /** Connections refused since start. */
  readonly refused: number
  /** Destroys every connection still open (after the server stopped listening). */
  destroyAll (): void
}

/**
 * Caps a listener's connections, in total and per remote address: its 'connection' listener
 * runs first and destroys an over-cap socket before any protocol reads from it (later listeners
 * see a destroyed socket and skip it). `name` says which listener in the log (e.g. "REST").
 */
export function guardConnections (server: Server, limits: ConnectionLimits, name: string): ConnectionGuard {
  const open = new Map<string, number>()
  const sockets = new Set<Socket>()
  const refusals = new RefusalLog(name)
  server.prependListener('connection', (socket: Socket) => {
    const remote = socket.remoteAddress ?? 'unknown'
    const mine = open.get(remote) ?? 0
    const why = overCap(limits, sockets.size, mine)
    if (why !== undefined) {
      refusals.refuse(remote, why)
      socket.destroy()
      return
    }
    refusals.admit(remote)
    sockets.add(socket)
    open.set(remote, mine + 1)
    socket.once('close', () => {
      sockets.delete(socket)
      const left = (open.get(remote) ?? 1) - 1
      if (left > 0) open.set(remote, left)
      else open.delete(remote)
    })
  })
  return {
    open: () => open,
    get refused () { return refusals.total },
    destroyAll () { for (const s of sockets) s.destroy() }
  }
}

/** Why one more connection (with `total` open, `fromRemote` of them from its address) is refused, if it is. */
export function overCap (limits: ConnectionLimits, total: number, fromRemote: number): string | undefined {
  if (total >= limits.maxConnections) return `${limits.maxConnections} connections are open (peer.limits.connections)`
  if (fromRemote >= limits.maxPerAddress) return `it holds ${fromRemote} connections (peer.limits.connectionsPerAddress)`
  return undefined
}

/**
 * Logs a remote's refusals once per episode: the first refusal with its reason, then, when a
 * connection of that remote is admitted again, how many were refused meanwhile.
 */
export class RefusalLog {
  private readonly refusing = new Map<string, number>()
  total = 0
  constructor (private readonly name: string) {}

  refuse (remote: string, why: string): void {
    this.total++
    const before = this.refusing.get(remote)
    if (before === undefined) log.warn(`${this.name}: refusing connections from ${remote}: ${why}`)
    this.refusing.set(remote, (before ?? 0) + 1)
  }

  admit (remote: string): void {
    const count = this.refusing.get(remote)
    if (count === undefined) return
    this.refusing.delete(remote)
    log.info(`${this.name}: accepting ${remote} again (${count} connection${count === 1 ? '' : 's'} refused meanwhile)`)
  }
}
