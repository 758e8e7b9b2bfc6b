import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import type { TLSSocket } from 'node:tls'
import type { CoreConfig } from '../../src/config/schema.ts'
import type { PeerApi } from '../../src/peer-api.ts'
import { createLogger } from '../../src/util/logger.ts'
import { serverTlsFromConfig } from '../grpc/tls.ts'
import { checkHealth, type HealthSource } from '../health.ts'
import { formatHostPort, parseListenAddress } from '../host-port.ts'
import { guardConnections, limitsFromConfig } from '../net/connection-guard.ts'
import { getBlock, getChain, getPeers, getTransaction } from './chain-handlers.ts'
import { chaincodeIntake } from './chaincode-intake.ts'
import { handleChaincodeRpc } from './chaincode-rpc.ts'
import { goRoutePath } from './go-path.ts'
import { openApiDocument } from './openapi.ts'
import { rpcFail, rpcResponseJson, restError, type RestReply } from './replies.ts'
import { LoginTokens } from '../peer/login-tokens.ts'
import { compileEnrollmentIDPattern, deleteEnrollmentID, getEnrollmentCert, getEnrollmentID, getTransactionCert, register, type RegistrarDeps } from './registrar.ts'

export interface RestOptions {
  /** A PeerNode's metrics and consensus status, where given, feed /healthz. */
  peer: PeerApi & HealthSource
  /** Uses rest.address, chaincode.mode, security.enabled, rest.validPatterns.enrollmentID and peer.tls.* (HTTPS, as Fabric). */
  config: CoreConfig
  /** Listen here instead of rest.address (tests pass 127.0.0.1:0). */
  address?: string
  /** Largest request body accepted, in bytes; larger ones are refused with 413 (default 1 MiB). */
  bodyLimit?: number
  /** Weft's version, for GET /openapi.json. */
  version?: string
}

export interface RestServer {
  /** http(s)://host:port actually bound. */
  readonly url: string
  readonly port: number
  /** Every route served (method and fastify path), as GET /openapi.json must list them. */
  readonly routes: ReadonlyArray<{ method: string, path: string }>
  close (): Promise<void>
}

const log = createLogger('rest')

/** On every answer, as Fabric's REST server sets them. */
const fabricHeaders = { 'content-type': 'application/json', 'access-control-allow-origin': '*', 'access-control-allow-headers': 'accept, content-type' }

/** Each path pattern and its methods, as Fabric's router lists them (OPTIONS answers with these). */
const routes: ReadonlyArray<[string, readonly string[]]> = [
  ['/registrar', ['POST']],
  ['/registrar/:id', ['GET', 'DELETE']],
  ['/registrar/:id/ecert', ['GET']],
  ['/registrar/:id/tcert', ['GET']],
  ['/chain', ['GET']],
  ['/chain/blocks/:id', ['GET']],
  ['/chaincode', ['POST']],
  ['/transactions/:id', ['GET']],
  ['/network/peers', ['GET']]
]

/**
 * Fabric 0.6.1's REST API on fastify: the same routes, status codes, bodies and headers
 * (Content-Type: application/json and CORS on every answer), Go's path rules, and its
 * JSON-RPC 2.0 /chaincode endpoint. Fastify's own 400/404/413/415 answers are replaced by Fabric's.
 */
export async function startRest (options: RestOptions): Promise<RestServer> {
  const { peer, config } = options
  const bodyLimit = options.bodyLimit ?? 1024 * 1024
  const tokens = new LoginTokens(config.peer.fileSystemPath)
  const registrar: RegistrarDeps = {
    securityEnabled: config.security.enabled,
    enrollmentID: compileEnrollmentIDPattern(config.rest.validPatterns.enrollmentID),
    users: peer.users,
    tokens
  }
  const rpcDeps = { peer, devMode: config.chaincode.mode === 'dev', securityEnabled: config.security.enabled, privacy: config.security.privacy, tokens }
  const listen = parseListenAddress(options.address ?? config.rest.address, 'rest.address')
  const badEscapes = new WeakSet<IncomingMessage>()

  const limits = limitsFromConfig(config)
  // Headers must be whole within handshakeTimeout; Node checks that every connectionsCheckingInterval.
  const httpOptions = { headersTimeout: limits.handshakeTimeoutMs, connectionsCheckingInterval: Math.max(100, Math.min(5000, limits.handshakeTimeoutMs / 4)) }
  const pair = await serverTlsFromConfig(config)
  const tls = pair === undefined ? undefined : { ...pair, handshakeTimeout: limits.handshakeTimeoutMs, ...httpOptions }

  const app = Fastify({
    logger: false,
    ...(tls === undefined ? { http: httpOptions } : { https: tls }),
    bodyLimit,
    // A socket quiet for idleTimeout is closed, and a request must be whole within idleTimeout,
    // so a client dripping bytes cannot hold a connection.
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: Math.min(limits.idleTimeoutMs, 5000),
    requestTimeout: limits.idleTimeoutMs,
    routerOptions: { maxParamLength: 64 * 1024 },
    rewriteUrl (req) {
      const path = goRoutePath(req.url ?? '/')
      if (path !== undefined) return path
      badEscapes.add(req)
      return '/'
    }
  })

  const served: Array<{ method: string, path: string }> = []
  app.addHook('onRoute', r => { for (const method of [r.method].flat()) served.push({ method, path: r.url }) })

  const guard = guardConnections(app.server, limits, 'REST')
  // As Go's TLS server does, name a plaintext client on the HTTPS port (the logger rate-limits repeats).
  if (tls !== undefined) {
    app.server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      if (!/HTTP_REQUEST|WRONG_VERSION_NUMBER/.test(err.code ?? '')) return
      log.warn(`REST: refused a connection from ${formatHostPort(socket.remoteAddress ?? 'unknown', socket.remotePort ?? 0)} without TLS: peer.tls.enabled is true, so clients must use https`)
    })
  }
  // CONNECT never reaches a route: answer it as any unknown endpoint, then hang up.
  app.server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    const { body } = restError(404, 'Openchain endpoint not found.')
    socket.end(`HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Allow-Headers: accept, content-type\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`)
  })

  // Fabric reads bodies as they come, whatever their Content-Type, even one that does not parse.
  // Hooks take `done` rather than being async: a promise per request and hook costs more than the hook.
  app.addHook('onRequest', (req, _reply, done) => {
    if (req.headers['content-type'] !== undefined) req.headers['content-type'] = 'application/octet-stream'
    done()
  })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => { done(null, body) })

  app.addHook('onSend', (req, reply, payload, done) => {
    if (!badEscapes.has(req.raw)) reply.headers(fabricHeaders)
    done(null, payload)
  })

  const send = (reply: FastifyReply, r: RestReply): FastifyReply => reply.code(r.status).headers(r.headers ?? {}).send(r.body)
  const body = (req: FastifyRequest): string => typeof req.body === 'string' ? req.body : ''
  const param = (req: FastifyRequest): string => (req.params as { id: string }).id
  const rawQuery = (req: FastifyRequest): string => {
    const q = req.originalUrl.indexOf('?')
    return q < 0 ? '' : req.originalUrl.slice(q + 1)
  }

  app.post('/registrar', async (req, reply) => send(reply, await register(body(req), registrar)))
  app.get('/registrar/:id', async (req, reply) => send(reply, await getEnrollmentID(param(req), registrar)))
  app.delete('/registrar/:id', async (req, reply) => send(reply, await deleteEnrollmentID(param(req), registrar)))
  app.get('/registrar/:id/ecert', async (req, reply) => send(reply, await getEnrollmentCert(param(req), registrar)))
  app.get('/registrar/:id/tcert', async (req, reply) => send(reply, await getTransactionCert(param(req), rawQuery(req), registrar)))
  app.get('/chain', async (_req, reply) => send(reply, await getChain(peer)))
  app.get('/chain/blocks/:id', {
    schema: { params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]{1,20}$' } }, required: ['id'] } },
    attachValidation: true
  }, async (req, reply) => send(reply, await getBlock(peer, param(req), req.validationError === undefined, config.security.privacy)))
  app.post('/chaincode', async (req, reply) => send(reply, await handleChaincodeRpc(body(req), rpcDeps)))
  app.get('/transactions/:id', async (req, reply) => send(reply, await getTransaction(peer, param(req))))
  app.get('/network/peers', async (_req, reply) => send(reply, await getPeers(peer)))
  // Weft's additions, not Fabric's.
  app.get('/healthz', async (_req, reply) => {
    const health = await checkHealth(peer)
    return send(reply, { status: health.httpStatus, body: JSON.stringify(health.body) + '\n' })
  })
  const openApi = JSON.stringify(openApiDocument(options.version ?? '0.0.0')) + '\n'
  app.get('/openapi.json', async (_req, reply) => send(reply, { status: 200, body: openApi }))
  for (const [path, methods] of routes) {
    app.options(path, async (_req, reply) => reply.code(200).header('access-control-allow-methods', methods.join(', ')).send(''))
  }

  app.setNotFoundHandler((req, reply) => {
    if (badEscapes.has(req.raw)) {
      // Go's server refuses a malformed request URI itself, before any handler or middleware.
      reply.code(400).header('content-type', 'text/plain; charset=utf-8').header('connection', 'close').send('400 Bad Request')
      return
    }
    send(reply, restError(404, 'Openchain endpoint not found.'))
  })

  /** A request that failed: its own 4xx status, else 500, logged. */
  const failed = (method: string, url: string, err: Error & { statusCode?: number }): RestReply => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500
    if (status === 500) log.error(`${method} ${url}: ${err.stack ?? err.message}`)
    return restError(status, err.message)
  }
  app.setErrorHandler((err: Error & { code?: string, statusCode?: number }, req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const data = `Request body is larger than the limit of ${bodyLimit} bytes.`
      if (req.routeOptions.url === '/chaincode') send(reply, { status: 413, body: rpcResponseJson(rpcFail('invalidRequest', data), undefined) + '\n' })
      else send(reply, restError(413, data))
      return
    }
    send(reply, failed(req.method, req.url, err))
  })

  // POST /chaincode is taken in before fastify (./chaincode-intake.ts), unless the server is closing:
  // then fastify answers, as it answers every request while it closes.
  let closing = false
  const intake = chaincodeIntake({
    bodyLimit,
    headers: fabricHeaders,
    answer: body => handleChaincodeRpc(body, rpcDeps),
    failed: err => failed('POST', '/chaincode', err)
  })
  const [fastifyHandler] = app.server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>
  app.server.removeListener('request', fastifyHandler)
  app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (closing || !intake(req, res)) fastifyHandler(req, res)
  })

  try {
    await app.listen({ host: listen.host, port: listen.port })
  } catch (err) {
    await app.close()
    throw new Error(`rest.address: cannot listen on ${options.address ?? config.rest.address}: ${(err as Error).message}`)
  }
  const bound = app.server.address() as AddressInfo
  const url = `${tls === undefined ? 'http' : 'https'}://${formatHostPort(bound.address, bound.port)}`
  log.info(`REST service listening on ${url}`)
  return {
    url,
    port: bound.port,
    routes: served,
    close: async () => {
      closing = true
      const closed = app.close()
      guard.destroyAll()
      await closed
    }
  }
}
