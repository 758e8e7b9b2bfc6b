import { readFile } from 'node:fs/promises'
import { Server, ServerCredentials } from '@grpc/grpc-js'
import { createLogger } from '../../src/util/logger.ts'
import { formatHostPort, parseListenAddress } from '../host-port.ts'

export interface GrpcServerOptions {
  /** host:port as in peer.listenAddress or peer.validator.events.address. */
  address: string
  /** The config key the address came from, for error messages. */
  key: string
  /** peer.tls.*: serve TLS with this certificate and key (PEM files). */
  tls?: { certFile: string, keyFile: string }
  /**
   * Largest message a call may receive or send (bytes); grpc-js's own default is 4 MiB in.
   * Peer.Chat checks its own limit on top (see chat-stream.ts), so give this server at least that.
   */
  maxMessageSize?: number
}

export interface GrpcServer {
  readonly server: Server
  /** The port actually bound (useful with port 0). */
  readonly port: number
  readonly address: string
  /** Stops accepting calls; open calls are cancelled after `graceMs` (default 2000). */
  close (graceMs?: number): Promise<void>
}

const log = createLogger('grpc')

/**
 * Binds a grpc-js server after `register` has added its services. Fabric runs two: the peer's
 * (Peer, Admin, Devops, Openchain, ChaincodeSupport) and the event hub's (Events).
 */
export async function startGrpcServer (options: GrpcServerOptions, register: (server: Server) => void): Promise<GrpcServer> {
  const { host, port: wanted } = parseListenAddress(options.address, options.key)
  const max = options.maxMessageSize
  const server = new Server(max === undefined ? {} : { 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': max })
  register(server)
  const creds = options.tls === undefined
    ? ServerCredentials.createInsecure()
    : ServerCredentials.createSsl(null, [{ cert_chain: await readFile(options.tls.certFile), private_key: await readFile(options.tls.keyFile) }])
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(formatHostPort(host, wanted), creds, (err, p) => {
      if (err !== null) reject(new Error(`${options.key}: cannot listen on ${options.address}: ${err.message}`))
      else resolve(p)
    })
  })
  const address = formatHostPort(host, port)
  log.info(`gRPC (${options.key}) listening on ${address}${options.tls === undefined ? '' : ' with TLS'}`)
  return {
    server,
    port,
    address,
    close: async (graceMs = 2000) => {
      await new Promise<void>(resolve => {
        const timer = setTimeout(() => { server.forceShutdown(); resolve() }, graceMs)
        server.tryShutdown(() => { clearTimeout(timer); resolve() })
      })
    }
  }
}
