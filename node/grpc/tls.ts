// peer.tls.* on Node: the key pair the peer serves (gRPC, events, REST), the trust its clients
// put in a peer, and why a TLS connection failed, in words a user can act on.
import { readFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { checkServerIdentity, connect as tlsConnect, createSecureContext, type PeerCertificate, type SecureContext, type SecureContextOptions } from 'node:tls'
import { ConfigError, type CoreConfig } from '../../src/config/index.ts'
import { errorMessage } from '../../src/util/errors.ts'
import { parseListenAddress } from '../host-port.ts'

/** A certificate (chain) and its private key, PEM. */
export interface ServerTls {
  cert: Buffer
  key: Buffer
}

/** How a client checks a TLS peer (Fabric's InitTLSForPeer). */
export interface ClientTls {
  /** PEM file trusted as the root; without it, the system's roots. */
  rootCertFile?: string
  /** Server name to verify instead of the dialled host (peer.tls.serverhostoverride). */
  serverNameOverride?: string
}

/**
 * Reads peer.tls.cert.file and peer.tls.key.file when peer.tls.enabled. Relative paths are taken
 * from the working directory, as Fabric's peer opens them. A missing or unreadable file, or a
 * key that does not match the certificate, is a ConfigError naming the key and the file.
 */
export async function serverTlsFromConfig (config: CoreConfig): Promise<ServerTls | undefined> {
  const tls = config.peer.tls
  if (!tls.enabled) return undefined
  return await readServerKeyPair({ file: tls.cert.file, key: 'peer.tls.cert.file' }, { file: tls.key.file, key: 'peer.tls.key.file' })
}

/** A server's certificate and key, named by their config keys in the ConfigError when unusable. */
export async function readServerKeyPair (certFile: ConfiguredFile, keyFile: ConfiguredFile): Promise<ServerTls> {
  const cert = await readConfigured(certFile.file, certFile.key)
  const key = await readConfigured(keyFile.file, keyFile.key)
  try {
    createSecureContext({ cert, key })
  } catch (err) {
    throw new ConfigError(`${certFile.key} ${certFile.file} and ${keyFile.key} ${keyFile.file} are not a usable key pair: ${errorMessage(err)}`)
  }
  return { cert, key }
}

interface ConfiguredFile { file: string, key: string }

async function readConfigured (file: string, key: string): Promise<Buffer> {
  if (file === '') throw new ConfigError(`TLS is enabled but ${key} is empty`)
  try {
    return await readFile(file)
  } catch (err) {
    throw new ConfigError(`cannot read ${key} ${file}: ${errorMessage(err)}`)
  }
}

/**
 * peer.tls.* as Fabric's clients (peer, CLI, event consumer, chaincode shim) read it: TLS when
 * enabled, the server name from peer.tls.serverhostoverride. Fabric 0.6.1 trusts
 * peer.tls.cert.file; Weft's peer.tls.rootcert.file (Fabric 1.x's key) names a CA instead.
 */
export function clientTlsFromConfig (config: CoreConfig): ClientTls | undefined {
  const tls = config.peer.tls
  if (!tls.enabled) return undefined
  const root = tls.rootcert.file !== '' ? tls.rootcert.file : tls.cert.file
  return {
    rootCertFile: root === '' ? undefined : root,
    serverNameOverride: tls.serverhostoverride === '' ? undefined : tls.serverhostoverride
  }
}

/**
 * The client's trust: the root file's certificates, each trusted as an anchor even when it is
 * not a CA's, as Go's x509 pool does (Fabric's clients trust the peer's own certificate).
 */
export async function clientTrust (tls: ClientTls): Promise<SecureContextOptions> {
  if (tls.rootCertFile === undefined) return {}
  try {
    return { ca: await readFile(tls.rootCertFile), allowPartialTrustChain: true }
  } catch (err) {
    throw new ConfigError(`cannot read the TLS root certificate ${tls.rootCertFile}: ${errorMessage(err)}`)
  }
}

export async function clientSecureContext (tls: ClientTls): Promise<SecureContext> {
  return createSecureContext(await clientTrust(tls))
}

/**
 * Why a TLS handshake with host:port fails, from one handshake of its own (grpc-js says only
 * that the connection failed); undefined when it succeeds.
 */
export async function tlsHandshakeFailure (target: string, tls: ClientTls, timeoutMs: number): Promise<string | undefined> {
  let host: string, port: number
  try {
    ({ host, port } = parseListenAddress(target, 'target'))
  } catch {
    return undefined // not host:port: no handshake to blame, the caller's error stands
  }
  const secureContext = await clientSecureContext(tls)
  const name = tls.serverNameOverride
  const servername = name ?? (isIP(host) === 0 ? host : undefined)
  return await new Promise<string | undefined>(resolve => {
    const socket = tlsConnect({
      host, port, secureContext, servername, ALPNProtocols: ['h2'], timeout: timeoutMs,
      // As grpc-js checks with ssl_target_name_override.
      ...(name === undefined ? {} : { checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(name, cert) })
    })
    // Before TCP connects there is no handshake to blame: the caller's error stands.
    let connected = false
    const done = (why?: string): void => { socket.destroy(); resolve(connected ? why : undefined) }
    socket.once('connect', () => { connected = true })
    socket.once('secureConnect', () => { done() })
    socket.once('timeout', () => { done(`no TLS handshake within ${timeoutMs} ms`) })
    socket.once('error', (err: NodeJS.ErrnoException) => { done(handshakeError(err)) })
    socket.once('close', () => { done('the peer closed the connection during the TLS handshake (is it serving plaintext? peer.tls.enabled)') })
  })
}

function handshakeError (err: NodeJS.ErrnoException): string {
  const code = err.code ?? ''
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST|RECORD_LAYER_FAILURE|ECONNRESET/.test(code)) {
    return `TLS handshake failed, the peer does not speak TLS there (is peer.tls.enabled off at the peer?): ${err.message}`
  }
  if (/CERT|SIGNATURE|ISSUER|SELF_SIGNED|ERR_TLS_CERT_ALTNAME_INVALID/.test(code)) {
    return `TLS handshake failed, the peer's certificate is not trusted (peer.tls.rootcert.file / peer.tls.cert.file, peer.tls.serverhostoverride): ${err.message}`
  }
  return `TLS handshake failed: ${err.message}`
}
