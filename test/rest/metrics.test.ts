import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { create } from '@bufbuild/protobuf'
import { loadConfig } from '../../src/config/index.ts'
import { ChaincodeSpecSchema } from '../../src/protos/chaincode_pb.ts'
import { EventType, InterestSchema } from '../../src/protos/events_pb.ts'
import { utf8 } from '../../src/crypto/bytes.ts'
import { startMetrics, type MetricsServer } from '../../node/metrics.ts'
import type { ConsensusStatus } from '../../src/peer-node/consensus.ts'
import type { PeerConnection } from '../../src/peer-node/status.ts'
import { PeerEndpoint_Type } from '../../src/protos/fabric_pb.ts'
import { fakePeer, type FakePeer } from './fake-peer.ts'
import { http } from './http.ts'
import { metricValue } from '../helpers/prometheus.ts'

let peer: FakePeer
let metrics: MetricsServer
beforeAll(async () => {
  peer = await fakePeer()
  const config = loadConfig({ env: { CORE_PEER_PROFILE_ENABLED: 'true' } })
  expect(config.peer.profile.listenAddress.startsWith('127.0.0.1:')).toBe(true)
  metrics = await startMetrics({ address: '127.0.0.1:0', peer })
})
afterAll(async () => {
  await metrics.close()
  await peer.close()
})


describe('metrics endpoint', () => {
  it('serves Prometheus text that follows the chain', async () => {
    const base = metrics.url.replace(/\/metrics$/, '')
    const first = await http(base, 'GET', '/metrics')
    expect(first.status).toBe(200)
    expect(first.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(first.body).toMatch(/^# HELP weft_ledger_height .+\n# TYPE weft_ledger_height gauge\nweft_ledger_height 1\n/)
    expect(metricValue(first.body, 'weft_committed_transactions_total')).toBe(0)
    expect(metricValue(first.body, 'weft_peers')).toBe(1)
    expect(metricValue(first.body, 'weft_event_clients')).toBe(0)
    expect(metricValue(first.body, 'process_resident_memory_bytes')).toBeGreaterThan(0)
    expect(metricValue(first.body, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0)
    expect(metricValue(first.body, 'nodejs_heap_size_total_bytes')).toBeGreaterThanOrEqual(metricValue(first.body, 'nodejs_heap_size_used_bytes'))
    expect(metricValue(first.body, 'nodejs_external_memory_bytes')).toBeGreaterThan(0)

    const stop = peer.hub.subscribe([create(InterestSchema, { eventType: EventType.BLOCK })], () => {})
    await peer.deploy(create(ChaincodeSpecSchema, { chaincodeID: { name: 'm' }, ctorMsg: { args: ['init', 'a', '1', 'b', '2'].map(utf8) } }))
    await peer.flush()
    const second = (await http(base, 'GET', '/metrics?x=1')).body
    expect(metricValue(second, 'weft_ledger_height')).toBe(2)
    expect(metricValue(second, 'weft_committed_blocks_total')).toBe(1)
    expect(metricValue(second, 'weft_committed_transactions_total')).toBe(1)
    expect(metricValue(second, 'weft_event_clients')).toBe(1)
    expect(metricValue(second, 'weft_events_accepted_total') - metricValue(first.body, 'weft_events_accepted_total')).toBe(1) // the deploy block's event
    expect(metricValue(second, 'weft_events_refused_total')).toBe(0)
    expect(metricValue(second, 'weft_chaincode_calls_total{type="deploy"}')).toBe(1)
    expect(metricValue(second, 'weft_chaincode_duration_seconds_count{type="deploy"}')).toBe(1)
    expect(metricValue(second, 'weft_chaincode_calls_total{type="invoke"}')).toBe(0)
    stop()
    expect((await http(base, 'GET', '/other')).status).toBe(404)
    expect((await http(base, 'POST', '/metrics')).status).toBe(404)
    expect(second).not.toMatch(/^weft_pbft_view /m) // no PBFT here
  })

  it('counts chaincode calls and errors by type, and when the last block was written', async () => {
    const base = metrics.url.replace(/\/metrics$/, '')
    const before = (await http(base, 'GET', '/metrics')).body
    const spec = (args: string[]) => create(ChaincodeSpecSchema, { chaincodeID: { name: 'm' }, ctorMsg: { args: args.map(utf8) } })
    await peer.invoke({ $typeName: 'protos.ChaincodeInvocationSpec', chaincodeSpec: spec(['invoke', 'a', 'b', '1']), idGenerationAlg: '' })
    await peer.invoke({ $typeName: 'protos.ChaincodeInvocationSpec', chaincodeSpec: spec(['invoke', 'a', 'nobody', '1']), idGenerationAlg: '' })
    await peer.flush()
    await expect(peer.query({ $typeName: 'protos.ChaincodeInvocationSpec', chaincodeSpec: spec(['query', 'nobody']), idGenerationAlg: '' })).rejects.toThrow()
    const after = (await http(base, 'GET', '/metrics')).body
    const delta = (name: string): number => metricValue(after, name) - metricValue(before, name)
    expect(delta('weft_chaincode_calls_total{type="invoke"}')).toBe(2)
    expect(delta('weft_chaincode_errors_total{type="invoke"}')).toBe(1)
    expect(delta('weft_chaincode_calls_total{type="query"}')).toBe(1)
    expect(delta('weft_chaincode_errors_total{type="query"}')).toBe(1)
    expect(delta('weft_chaincode_duration_seconds_count{type="invoke"}')).toBe(2)
    expect(delta('weft_chaincode_duration_seconds_sum{type="invoke"}')).toBeGreaterThanOrEqual(0)
    expect(after).toMatch(/^# TYPE weft_chaincode_duration_seconds summary$/m)
    expect(metricValue(after, 'weft_ledger_height')).toBe(3)
  })

  it('shows consensus, a PBFT replica\'s view, sequence numbers and queue depth, and connections by transport', async () => {
    const status: ConsensusStatus = {
      plugin: 'pbft',
      N: 4,
      f: 1,
      liveValidators: ['vp0', 'vp1', 'vp2'],
      pbft: { id: 0, view: 5, activeView: false, primary: 1, seqNo: 42, lastExec: 40, h: 30, skipInProgress: false, checkpoints: [], viewChangesSent: 3, newViewsInstalled: 2, outstandingRequests: 7, stalePendingRequests: 0 }
    }
    const connection = (name: string, transport: string): PeerConnection =>
      ({ name, address: name, type: PeerEndpoint_Type.VALIDATOR, transport, remote: name, initiated: true, blocksAnnounced: 0 })
    const replica = { ...peer, consensusStatus: () => status, connections: () => [connection('vp1', 'grpc'), connection('vp2', 'libp2p/ws'), connection('vp3', 'grpc')] }
    const m = await startMetrics({ address: '127.0.0.1:0', peer: replica })
    try {
      const text = await m.render()
      expect(metricValue(text, 'weft_pbft_view')).toBe(5)
      expect(metricValue(text, 'weft_pbft_view_active')).toBe(0)
      expect(metricValue(text, 'weft_pbft_sequence_number')).toBe(42)
      expect(metricValue(text, 'weft_pbft_last_executed')).toBe(40)
      expect(metricValue(text, 'weft_pbft_low_watermark')).toBe(30)
      expect(metricValue(text, 'weft_pbft_outstanding_requests')).toBe(7)
      expect(metricValue(text, 'weft_pbft_view_changes_sent_total')).toBe(3)
      expect(metricValue(text, 'weft_pbft_new_views_installed_total')).toBe(2)
      expect(metricValue(text, 'weft_consensus_validators')).toBe(4)
      expect(metricValue(text, 'weft_consensus_live_validators')).toBe(3)
      expect(metricValue(text, 'weft_peer_connections{transport="grpc"}')).toBe(2)
      expect(metricValue(text, 'weft_peer_connections{transport="libp2p/ws"}')).toBe(1)
    } finally {
      await m.close()
    }
  })
})
