import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { create } from '@bufbuild/protobuf'
import { loadConfig } from '../../src/config/index.ts'
import { ChaincodeSpecSchema } from '../../src/protos/chaincode_pb.ts'
import { EventType, InterestSchema } from '../../src/protos/events_pb.ts'
import { utf8 } from '../../src/crypto/bytes.ts'
import { startMetrics, type MetricsServer } from '../../node/metrics.ts'
import type { ConsensusStatus } from '../../src/peer-node.ts'
import { fakePeer, type FakePeer } from './fake-peer.ts'
import { http } from './http.ts'

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

const value = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])

describe('metrics endpoint', () => {
  it('serves Prometheus text that follows the chain', async () => {
    const base = metrics.url.replace(/\/metrics$/, '')
    const first = await http(base, 'GET', '/metrics')
    expect(first.status).toBe(200)
    expect(first.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(first.body).toMatch(/^# HELP weft_ledger_height .+\n# TYPE weft_ledger_height gauge\nweft_ledger_height 1\n/)
    expect(value(first.body, 'weft_committed_transactions_total')).toBe(0)
    expect(value(first.body, 'weft_peers')).toBe(1)
    expect(value(first.body, 'weft_event_clients')).toBe(0)
    expect(value(first.body, 'process_resident_memory_bytes')).toBeGreaterThan(0)
    expect(value(first.body, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0)
    expect(value(first.body, 'nodejs_heap_size_total_bytes')).toBeGreaterThanOrEqual(value(first.body, 'nodejs_heap_size_used_bytes'))
    expect(value(first.body, 'nodejs_external_memory_bytes')).toBeGreaterThan(0)

    const stop = peer.hub.subscribe([create(InterestSchema, { eventType: EventType.BLOCK })], () => {})
    await peer.deploy(create(ChaincodeSpecSchema, { chaincodeID: { name: 'm' }, ctorMsg: { args: ['init', 'a', '1', 'b', '2'].map(utf8) } }))
    await peer.flush()
    const second = (await http(base, 'GET', '/metrics?x=1')).body
    expect(value(second, 'weft_ledger_height')).toBe(2)
    expect(value(second, 'weft_committed_blocks_total')).toBe(1)
    expect(value(second, 'weft_committed_transactions_total')).toBe(1)
    expect(value(second, 'weft_event_clients')).toBe(1)
    expect(value(second, 'weft_events_accepted_total') - value(first.body, 'weft_events_accepted_total')).toBe(1) // the deploy block's event
    expect(value(second, 'weft_events_refused_total')).toBe(0)
    stop()
    expect((await http(base, 'GET', '/other')).status).toBe(404)
    expect((await http(base, 'POST', '/metrics')).status).toBe(404)
    expect(second).not.toMatch(/^weft_pbft_view /m) // no PBFT here
  })

  it('shows a PBFT replica\'s view', async () => {
    const status: ConsensusStatus = {
      plugin: 'pbft',
      N: 4,
      f: 1,
      liveValidators: ['vp0'],
      pbft: { id: 0, view: 5, activeView: true, primary: 1, seqNo: 0, lastExec: 0, h: 0, skipInProgress: false, checkpoints: [], outstandingRequests: 0, stalePendingRequests: 0 }
    }
    const replica = { ...peer, consensusStatus: () => status }
    const m = await startMetrics({ address: '127.0.0.1:0', peer: replica })
    try {
      expect(value(await m.render(), 'weft_pbft_view')).toBe(5)
    } finally {
      await m.close()
    }
  })
})
