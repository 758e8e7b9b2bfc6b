import { createServer, type Socket } from 'node:net'
import { Server, ServerCredentials } from '@grpc/grpc-js'
import { createLogger } from '../../src/util/logger.ts'
import { formatHostPort, parseListenAddress } from '../host-port.ts'
import { DEFAULT_LIMITS, guardConnections, type ServerLimits } from '../net/connection-guard.ts'
import type { ServerTls } from './tls.ts'

export interface GrpcServerOptions {
  /** host:port as in peer.listenAddress or peer.validator.events.address. */
  address: string
  /** The config key the address came from, for error messages. */
  key: string
  /** peer.tls.*: serve TLS only, with this certificate and key (serverTlsFromConfig). */
  tls?: ServerTls
  /**
   * Largest message a call may receive or send (bytes); grpc-js's own default is 4 MiB in.
   * Peer.Chat checks its own limit on top (see chat-stream.ts), so give this server at least that.
   */
  maxMessageSize?: number
  /** peer.limits.*: connection caps and timeouts (defaults: core.yaml's). */
  limits?: ServerLimits
}

export interface GrpcServer {
  readonly server: Server
  /** The port actually bound (useful with port 0). */
  readonly port: number
  readonly address: string
  /** The config key of the address (GrpcServerOptions.key). */
  readonly key: string
  /** Connections refused because they did not start with a TLS handshake (TLS servers only). */
  readonly plaintextRefused: number
  /** Stops accepting calls; open calls are cancelled after `graceMs` (default 2000). */
  close (graceMs?: number): Promise<void>
}

const log = createLogger('grpc')

/**
 * Serves a grpc-js server after `register` has added its services. Fabric runs two: the peer's
 * (Peer, Admin, Devops, Openchain, ChaincodeSupport) and the event hub's (Events). Weft owns the
 * listening socket (node/net/connection-guard.ts) and injects each connection it admits, so the
 * caps apply before HTTP/2 or TLS start; grpc-js's keepalive and idle settings do the rest.
 */
export async function startGrpcServer (options: GrpcServerOptions, register: (server: Server) => void): Promise<GrpcServer> {
  const { host, port: wanted } = parseListenAddress(options.address, options.key)
  const max = options.maxMessageSize
  const limits = options.limits ?? DEFAULT_LIMITS
  // The server pings every handshakeTimeout and drops a client that does not answer within it,
  // which also ends connections that never finish the HTTP/2 preface.
  const server = new Server({
    ...(max === undefined ? {} : { 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': max }),
    'grpc.keepalive_time_ms': limits.handshakeTimeoutMs,
    'grpc.keepalive_timeout_ms': limits.handshakeTimeoutMs,
    'grpc.max_connection_idle_ms': limits.idleTimeoutMs
  })
  register(server)
  const creds = options.tls === undefined
    ? ServerCredentials.createInsecure()
    : ServerCredentials.createSsl(null, [{ cert_chain: options.tls.cert, private_key: options.tls.key }])
  const injector = server.createConnectionInjector(creds)
  const listener = createServer({ noDelay: true })
  const guard = guardConnections(listener, limits, `gRPC ${options.key}`)
  let plaintextRefused = 0
  const inject = (socket: Socket): void => { injector.injectConnection(socket) }
  const refusePlaintext = (socket: Socket): void => {
    plaintextRefused++
    // Warnings of one shape are rate-limited by the logger, so a client retrying in a loop is one line every few seconds.
    log.warn(`gRPC (${options.key}): refused a connection from ${formatHostPort(socket.remoteAddress ?? 'unknown', socket.remotePort ?? 0)} without TLS: peer.tls.enabled is true, so clients must dial with TLS`)
    socket.destroy()
  }
  listener.on('connection', (socket: Socket) => {
    if (socket.destroyed) return
    if (options.tls === undefined) inject(socket)
    else awaitTlsHello(socket, limits.handshakeTimeoutMs, inject, refusePlaintext)
  })
  await new Promise<void>((resolve, reject) => {
    listener.once('error', (err: Error) => { reject(new Error(`${options.key}: cannot listen on ${options.address}: ${err.message}`)) })
    listener.listen(wanted, host, () => { resolve() })
  })
  const port = (listener.address() as { port: number }).port
  const address = formatHostPort(host, port)
  log.info(`gRPC (${options.key}) listening on ${address}${options.tls === undefined ? '' : ' with TLS'}`)
  return {
    server,
    port,
    address,
    key: options.key,
    get plaintextRefused () { return plaintextRefused },
    close: async (graceMs = 2000) => {
      injector.drain(graceMs)
      await new Promise<void>(resolve => {
        const timer = setTimeout(() => { server.forceShutdown(); resolve() }, graceMs)
        server.tryShutdown(() => { clearTimeout(timer); resolve() })
      })
      injector.destroy()
      await new Promise<void>(resolve => {
        listener.close(() => { resolve() })
        guard.destroyAll()
      })
    }
  }
}

/** A TLS connection opens with a handshake record; a plaintext gRPC client opens with the HTTP/2 preface ("PRI * …"). */
const TLS_HANDSHAKE_RECORD = 0x16

/**
 * Waits for a connection's first byte and hands the socket on with that byte still unread: to
 * `tls` when it opens a TLS handshake, else to `plaintext`. A client silent for `timeoutMs` is dropped.
 */
function awaitTlsHello (socket: Socket, timeoutMs: number, tls: (s: Socket) => void, plaintext: (s: Socket) => void): void {
  const timer = setTimeout(() => { socket.destroy() }, timeoutMs)
  // Until grpc-js has the socket, a reset is ours to swallow (an unheard 'error' would throw).
  const onError = (): void => { socket.destroy() }
  const stopWaiting = (): void => {
    clearTimeout(timer)
    socket.off('readable', onReadable)
    socket.off('close', stopWaiting)
    socket.off('error', onError)
  }
  const onReadable = (): void => {
    const first = socket.read(1) as Buffer | null
    if (first === null) return
    stopWaiting()
    socket.unshift(first)
    if (first[0] === TLS_HANDSHAKE_RECORD) tls(socket)
    else plaintext(socket)
  }
  socket.on('readable', onReadable)
  socket.on('error', onError)
  socket.once('close', stopWaiting)
}
