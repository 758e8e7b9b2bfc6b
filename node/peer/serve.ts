import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import type { CoreConfig } from '../../src/config/schema.ts'
import { PeerNode } from '../../src/peer-node.ts'
import { DEFAULT_MAX_MESSAGE_SIZE } from '../../src/transport/frame.ts'
import { libp2pChat } from '../../src/transport/libp2p-chat.ts'
import { serveLibp2pCa } from '../../src/transport/libp2p-ca.ts'
import { serveLibp2pEvents } from '../../src/transport/libp2p-events.ts'
import { errorMessage } from '../../src/util/errors.ts'
import { createLogger } from '../../src/util/logger.ts'
import { systemRandom, systemScheduler } from '../../src/util/scheduler.ts'
import { chaincodeRoots, packageChaincode } from '../chaincode/package.ts'
import { workerRuntime } from '../chaincode/worker-runtime.ts'
import { addAdminService } from '../grpc/admin-service.ts'
import { addChaincodeSupportService } from '../grpc/chaincode-support-service.ts'
import { addDevopsService } from '../grpc/devops-service.ts'
import { addEventsService } from '../grpc/events-service.ts'
import { GrpcTransport } from '../grpc/grpc-transport.ts'
import { addOpenchainService } from '../grpc/openchain-service.ts'
import { addPeerService } from '../grpc/peer-service.ts'
import { startGrpcServer, type GrpcServer } from '../grpc/server.ts'
import { clientTlsFromConfig, serverTlsFromConfig } from '../grpc/tls.ts'
import { parseListenAddress } from '../host-port.ts'
import { createNodeLibp2p, type NodeLibp2p } from '../libp2p/create-node.ts'
import { startMetrics } from '../metrics.ts'
import { limitsFromConfig } from '../net/connection-guard.ts'
import { startRest } from '../rest/server.ts'
import { openLevelDB } from '../storage.ts'
import { bootstrapInfo, startWebApp, type BootstrapInfo } from '../web/index.ts'
import type { CaRpc } from '../../src/crypto/fabric/ca-rpc.ts'
import type { NodeSecurity } from '../../src/security/member.ts'
import { enrollNode } from '../../src/security/node-security.ts'
import { caMembershipClient } from './enrollment.ts'
import { memberFiles } from './member-files.ts'
import { loadOrCreateIdentity, nodeIdentity } from './identity.ts'
import { readNetworkFile } from './network-file.ts'
import { writePidFile } from './pid-file.ts'

const log = createLogger('serve')
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string }

/** A running Node peer and everything it serves. */
export interface RunningPeer {
  node: PeerNode
  libp2p: NodeLibp2p
  /** Multiaddrs browsers and libp2p peers dial (each ends in /p2p/<peer id>). */
  multiaddrs: string[]
  grpc: GrpcServer
  events: GrpcServer
  restUrl?: string
  metricsUrl?: string
  /** The browser app (web.enabled): its URL, and a promise that settles once it is built and served. */
  webUrl?: string
  webReady?: Promise<void>
  /** What GET /weft/bootstrap.json answers: how a browser tab joins this peer's network. */
  bootstrap (): BootstrapInfo
  /** Stops everything; resolves when the ledger is closed. */
  stop (): Promise<void>
  /** Resolves once the peer has stopped, whoever stopped it (signal, Admin.StopServer, fatal error). */
  stopped: Promise<void>
}

/** host:port → the WebSockets multiaddr libp2p listens on. */
export function wsMultiaddr (address: string, key: string): string {
  const { host, port } = parseListenAddress(address, key)
  const proto = host.includes(':') ? 'ip6' : /^[\d.]+$/.test(host) ? 'ip4' : 'dns'
  return `/${proto}/${host}/tcp/${port}/ws`
}

/**
 * Fabric's serve() on Node: config is already loaded; data directory and pid file, enrollment with
 * membership services (security.enabled), LevelDB,
 * identity, libp2p, the peer on its gRPC and libp2p transports (PeerNode assembles it), then
 * the gRPC services, the event hub server, REST, metrics and the web app around it.
 */
export async function serve (config: CoreConfig): Promise<RunningPeer> {
  const dataDir = resolve(config.peer.fileSystemPath)
  const removePid = await writePidFile(join(dataDir, 'peer.pid'))
  const cleanups: Array<() => Promise<void> | void> = [removePid]
  const cleanup = async (): Promise<void> => {
    for (const c of cleanups.reverse()) {
      try { await c() } catch (err) { log.error(`shutdown: ${errorMessage(err)}`) }
    }
  }
  try {
    // Before anything is opened: a TLS file that cannot be used stops the start with its name.
    const serverTls = await serverTlsFromConfig(config)
    log.info(`Security enabled status: ${config.security.enabled}`)
    log.info(`Privacy enabled status: ${config.security.privacy}`)
    // Before anything listens: a peer that cannot enroll does not start.
    let security: NodeSecurity | undefined
    let caRpc: CaRpc | undefined
    if (config.security.enabled) {
      const ca = await caMembershipClient(config, systemScheduler)
      cleanups.push(ca.close)
      security = await enrollNode(config, ca.client, memberFiles(dataDir), systemScheduler)
      caRpc = ca.rpc
    }
    const store = await openLevelDB(join(dataDir, 'db'))
    const key = await loadOrCreateIdentity(join(dataDir, 'identity.key'))
    const limits = limitsFromConfig(config)
    const libp2p = await createNodeLibp2p({ privateKey: key, listen: [wsMultiaddr(config.peer.libp2p.address, 'peer.libp2p.address'), ...config.peer.libp2p.listen], limits })
    cleanups.push(() => libp2p.stop())
    const multiaddrs = libp2p.getMultiaddrs().map(m => m.toString())
    const grpcTransport = new GrpcTransport(config.peer.address, { tls: clientTlsFromConfig(config), maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE })
    const network = config.peer.validator.network === '' ? undefined : await readNetworkFile(config.peer.validator.network)

    const node = await PeerNode.create(config, {
      store,
      transports: [libp2pChat({ chatWithDiscoveredPeers: true })({ node: libp2p }), grpcTransport],
      scheduler: systemScheduler,
      random: systemRandom,
      chaincodeRuntime: workerRuntime(),
      packageChaincode: spec => packageChaincode(spec.chaincodeID?.path ?? '', { roots: chaincodeRoots(config.chaincode.node.roots) }),
      identity: nodeIdentity(key, network, config.security.enabled),
      security
    })
    config = node.config
    let stopRequested!: () => void
    const stopRequest = new Promise<void>(resolve => { stopRequested = resolve })
    node.onStop(() => stopRequested())
    cleanups.push(() => node.stop())
    cleanups.push(await serveLibp2pEvents(libp2p, stream => node.serveEvents(stream)))
    // Browser tabs enroll their users through this peer: they cannot reach the CA's gRPC.
    if (caRpc !== undefined) cleanups.push(await serveLibp2pCa(libp2p, caRpc))

    const listenAddress = config.peer.listenAddress !== '' ? config.peer.listenAddress : config.peer.address
    const grpc = await startGrpcServer({ address: listenAddress, key: 'peer.listenAddress', tls: serverTls, maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE, limits }, server => {
      addPeerService(server, node, grpcTransport.chatHandler)
      addAdminService(server, node)
      addDevopsService(server, node, { securityEnabled: config.security.enabled })
      addOpenchainService(server, node, config.security.privacy)
      if (config.chaincode.mode === 'dev') addChaincodeSupportService(server, stream => node.serveChaincode(stream))
    })
    cleanups.push(() => grpc.close())
    const events = await startGrpcServer({ address: config.peer.validator.events.address, key: 'peer.validator.events.address', tls: serverTls, limits }, server => addEventsService(server, stream => node.serveEvents(stream)))
    cleanups.push(() => events.close())

    let restUrl: string | undefined
    if (config.rest.enabled) {
      const rest = await startRest({ peer: node, config, version })
      cleanups.push(() => rest.close())
      restUrl = rest.url
    }
    let metricsUrl: string | undefined
    if (config.peer.profile.enabled) {
      const metrics = await startMetrics({ address: config.peer.profile.listenAddress, peer: node, tlsListeners: serverTls === undefined ? [] : [grpc, events] })
      cleanups.push(() => metrics.close())
      metricsUrl = metrics.url
    }

    const bootstrap = (): BootstrapInfo => bootstrapInfo(config, libp2p.peerId.toString(), libp2p.getMultiaddrs().map(m => m.toString()), network?.map(({ name, peerId }) => ({ name, peerId })))
    let webUrl: string | undefined
    let webReady: Promise<void> | undefined
    if (config.web.enabled) {
      const web = await startWebApp({ address: config.web.address, bootstrap })
      cleanups.push(() => web.close())
      webUrl = web.url
      webReady = web.ready
    }

    await node.start()
    const { address } = await node.getPeerEndpoint()
    log.info(`Starting peer with ID=${config.peer.id}, network ID=${config.peer.networkId}, address=${address}, rootnodes=${config.peer.discovery.rootnode}, validator=${config.peer.validator.enabled}`)
    log.info(`gRPC on ${grpc.address}, events on ${events.address}${restUrl !== undefined ? `, REST on ${restUrl}` : ''}${webUrl !== undefined ? `, web app on ${webUrl}` : ''}, libp2p on ${multiaddrs.join(' ')}`)

    let stopping: Promise<void> | undefined
    // The node first: it says DISC_DISCONNECT and ends every chat while the gRPC server and libp2p still carry them.
    const stop = (): Promise<void> => (stopping ??= node.stop().then(cleanup))
    const stopped = stopRequest.then(() => stop())
    return { node, libp2p, multiaddrs, grpc, events, restUrl, metricsUrl, webUrl, webReady, bootstrap, stop, stopped }
  } catch (err) {
    await cleanup()
    throw err
  }
}
