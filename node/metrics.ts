import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ConsensusStatus } from '../src/peer-node/consensus.ts'
import type { PeerMetrics } from '../src/peer-node/metrics.ts'
import type { PeerConnection } from '../src/peer-node/status.ts'
import { createLogger } from '../src/util/logger.ts'
import { checkHealth, type HealthSource } from './health.ts'
import { formatHostPort, parseListenAddress } from './host-port.ts'
import { errorMessage } from '../src/util/errors.ts'

export interface MetricsOptions {
  /** peer.profile.listenAddress (loopback by default in Weft). */
  address: string
  /** The peer's figures (PeerNode.metrics) and, on a validator, what its consensus does; its status for /healthz. */
  peer: HealthSource & { metrics (): PeerMetrics, consensusStatus? (): ConsensusStatus | undefined, connections? (): PeerConnection[] }
  /** The gRPC listeners serving TLS, by config key, with the plaintext connections each refused. */
  tlsListeners?: ReadonlyArray<{ key: string, plaintextRefused: number }>
}

export interface MetricsServer {
  readonly url: string
  /** The exposition text, as GET /metrics serves it. */
  render (): Promise<string>
  close (): Promise<void>
}

const log = createLogger('metrics')

/** A Prometheus label value, quoted and escaped. */
function labelValue (v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`
}

/**
 * The `peer.profile.enabled` endpoint: Prometheus text format at /metrics with the chain
 * height and last commit, blocks and transactions committed since start, connected peers (by
 * transport) and event clients, chaincode executions, consensus (validators; a PBFT replica's
 * view, sequence numbers and queue depth), and the process's resident memory and V8 heap;
 * /healthz as the REST server's.
 */
export async function startMetrics (options: MetricsOptions): Promise<MetricsServer> {
  const render = async (): Promise<string> => {
    const { peer } = options
    const m = peer.metrics()
    const lines: string[] = []
    const family = (name: string, type: 'gauge' | 'counter' | 'summary', help: string, samples: Array<[string, number | bigint]>): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([suffix, v]) => `${name}${suffix} ${v}`))
    }
    const metric = (name: string, type: 'gauge' | 'counter', help: string, value: number | bigint): void => family(name, type, help, [['', value]])
    metric('weft_ledger_height', 'gauge', 'Blocks in the local chain, genesis included.', m.height)
    if (m.lastCommitMs !== undefined) metric('weft_ledger_last_commit_timestamp_seconds', 'gauge', 'When the last block was written, in seconds since the Unix epoch.', m.lastCommitMs / 1000)
    metric('weft_committed_blocks_total', 'counter', 'Blocks written since the peer started.', m.blocksCommitted)
    metric('weft_committed_transactions_total', 'counter', 'Transactions in blocks written since the peer started.', m.transactionsCommitted)
    metric('weft_peers', 'gauge', 'Peers this peer is connected to.', m.peers)
    const connections = peer.connections?.()
    if (connections !== undefined) {
      const byTransport = new Map<string, number>()
      for (const c of connections) byTransport.set(c.transport, (byTransport.get(c.transport) ?? 0) + 1)
      family('weft_peer_connections', 'gauge', 'Peers this peer chats with, by the transport that carries the chat.',
        [...byTransport].sort(([a], [b]) => a.localeCompare(b)).map(([t, n]) => [`{transport=${labelValue(t)}}`, n]))
    }
    metric('weft_event_clients', 'gauge', 'Event hub consumers with at least one interest.', m.eventClients)
    metric('weft_events_accepted_total', 'counter', 'Events taken into the event buffer.', m.eventsAccepted)
    metric('weft_events_refused_total', 'counter', 'Events not taken because the event buffer was full.', m.eventsRefused)
    metric('weft_event_deliveries_total', 'counter', 'Events handed to consumers (one per consumer).', m.eventDeliveries)
    const kinds = Object.entries(m.chaincode)
    family('weft_chaincode_calls_total', 'counter', 'Chaincode deploys, invokes and queries this peer executed.', kinds.map(([k, c]) => [`{type="${k}"}`, c.calls]))
    family('weft_chaincode_errors_total', 'counter', 'Chaincode executions that failed.', kinds.map(([k, c]) => [`{type="${k}"}`, c.errors]))
    family('weft_chaincode_duration_seconds', 'summary', 'Time spent executing chaincode.',
      kinds.flatMap(([k, c]): Array<[string, number]> => [[`_sum{type="${k}"}`, c.totalMs / 1000], [`_count{type="${k}"}`, c.calls]]))
    const consensus = peer.consensusStatus?.()
    if (consensus !== undefined) {
      metric('weft_consensus_validators', 'gauge', 'Validators in the network (PBFT\'s N).', consensus.N)
      metric('weft_consensus_live_validators', 'gauge', 'Validators this peer has a chat with, itself included.', consensus.liveValidators.length)
    }
    const pbft = consensus?.pbft
    if (pbft !== undefined) {
      metric('weft_pbft_view', 'gauge', 'The PBFT view this replica is in (its primary is replica view mod N); each view change adds one.', pbft.view)
      metric('weft_pbft_view_active', 'gauge', '1 while the view is active, 0 during a view change.', pbft.activeView ? 1 : 0)
      metric('weft_pbft_sequence_number', 'gauge', 'The last sequence number assigned.', pbft.seqNo)
      metric('weft_pbft_last_executed', 'gauge', 'The last sequence number executed.', pbft.lastExec)
      metric('weft_pbft_low_watermark', 'gauge', 'The low watermark (last stable checkpoint).', pbft.h)
      metric('weft_pbft_view_changes_sent_total', 'counter', 'View-change messages this replica sent since it started, resends included.', pbft.viewChangesSent)
      metric('weft_pbft_new_views_installed_total', 'counter', 'New views this replica entered since it started (view changes completed).', pbft.newViewsInstalled)
      metric('weft_pbft_outstanding_requests', 'gauge', 'Requests received and not yet executed (the queue depth).', pbft.outstandingRequests)
    }
    const tlsListeners = options.tlsListeners ?? []
    if (tlsListeners.length > 0) {
      family('weft_tls_plaintext_refused_total', 'counter', 'Connections a TLS listener refused because they did not open with a TLS handshake.',
        tlsListeners.map(l => [`{listener=${labelValue(l.key)}}`, l.plaintextRefused]))
    }
    // The process's memory, under the names Prometheus' Node client (prom-client) gives them.
    const mem = process.memoryUsage()
    metric('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', mem.rss)
    metric('nodejs_heap_size_total_bytes', 'gauge', 'Process heap size from Node.js in bytes.', mem.heapTotal)
    metric('nodejs_heap_size_used_bytes', 'gauge', 'Process heap size used from Node.js in bytes.', mem.heapUsed)
    metric('nodejs_external_memory_bytes', 'gauge', 'Node.js external memory size in bytes.', mem.external)
    return lines.join('\n') + '\n'
  }

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if ((path !== '/metrics' && path !== '/healthz') || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: metrics are served at GET /metrics, health at GET /healthz\n')
      return
    }
    if (path === '/healthz') {
      checkHealth(options.peer).then(
        h => { res.writeHead(h.httpStatus, { 'content-type': 'application/json' }).end(req.method === 'HEAD' ? undefined : JSON.stringify(h.body) + '\n') },
        (err: Error) => { res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'unavailable', reason: err.message }) + '\n') }
      )
      return
    }
    render().then(
      text => { res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : text) },
      (err: Error) => {
        log.error(`cannot render metrics: ${errorMessage(err)}`)
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`cannot render metrics: ${err.message}\n`)
      }
    )
  })
  const { host, port } = parseListenAddress(options.address, 'peer.profile.listenAddress')
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve() })
  })
  const bound = server.address() as AddressInfo
  const url = `http://${formatHostPort(bound.address, bound.port)}/metrics`
  log.info(`metrics at ${url}`)
  return {
    url,
    render,
    close: async () => {
      await new Promise<void>(resolve => { server.close(() => { resolve() }); server.closeAllConnections() })
    }
  }
}
