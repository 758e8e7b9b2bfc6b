import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/index.ts'
import type { ConsensusStatus } from '../../src/peer-node/consensus.ts'
import { startMetrics, type MetricsServer } from '../../node/metrics.ts'
import { startRest, type RestServer } from '../../node/rest/server.ts'
import { fakePeer, type FakePeer } from './fake-peer.ts'
import { http } from './http.ts'

let peer: FakePeer
beforeEach(async () => { peer = await fakePeer() })
afterEach(async () => { await peer.close() })

const pbft = (live: string[]): ConsensusStatus => ({
  plugin: 'pbft',
  N: 4,
  f: 1,
  liveValidators: live,
  pbft: { id: 0, view: 0, activeView: true, primary: 0, seqNo: 0, lastExec: 0, h: 0, skipInProgress: false, checkpoints: [], viewChangesSent: 0, newViewsInstalled: 0, outstandingRequests: 0, stalePendingRequests: 0 }
})

describe('GET /healthz on the REST server', () => {
  let rest: RestServer
  afterEach(async () => { await rest.close() })

  it('is 200 with the peer, its height and connections while started, 503 once stopped', async () => {
    rest = await startRest({ peer, config: loadConfig({ chaincodeDevMode: true }), address: '127.0.0.1:0' })
    const up = await http(rest.url, 'GET', '/healthz')
    expect(up.status).toBe(200)
    expect(up.headers['content-type']).toBe('application/json')
    expect(JSON.parse(up.body)).toEqual({ status: 'ok', peerId: 'vp0', height: 1, validator: true, consensus: null, connectedPeers: 1 })
    await peer.stop()
    const down = await http(rest.url, 'GET', '/healthz')
    expect(down.status).toBe(503)
    expect(JSON.parse(down.body)).toMatchObject({ status: 'unavailable', reason: 'peer is STOPPED', peerId: 'vp0' })
  })

  it('is 503 on a PBFT validator that sees fewer than 2f+1 validators', async () => {
    let live = ['vp0', 'vp1']
    rest = await startRest({ peer: { ...peer, consensusStatus: () => pbft(live) }, config: loadConfig({}), address: '127.0.0.1:0' })
    const stalled = await http(rest.url, 'GET', '/healthz')
    expect(stalled.status).toBe(503)
    expect(JSON.parse(stalled.body)).toMatchObject({ status: 'unavailable', consensus: 'pbft' })
    live = ['vp0', 'vp1', 'vp3']
    const quorum = await http(rest.url, 'GET', '/healthz')
    expect(quorum.status).toBe(200)
    expect(JSON.parse(quorum.body)).toMatchObject({ status: 'ok', consensus: 'pbft' })
  })
})

describe('GET /healthz on the metrics server', () => {
  let metrics: MetricsServer
  afterEach(async () => { await metrics.close() })

  it('answers as the REST one', async () => {
    metrics = await startMetrics({ address: '127.0.0.1:0', peer })
    const base = metrics.url.replace(/\/metrics$/, '')
    const up = await http(base, 'GET', '/healthz')
    expect(up.status).toBe(200)
    expect(JSON.parse(up.body)).toMatchObject({ status: 'ok', peerId: 'vp0', height: 1 })
    expect((await http(base, 'HEAD', '/healthz')).body).toBe('')
    await peer.stop()
    expect((await http(base, 'GET', '/healthz')).status).toBe(503)
  })
})
