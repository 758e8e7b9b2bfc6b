// The operator's endpoints on a real peer (serve()): /healthz on the REST and metrics ports, and
// /metrics figures that follow what the peer executes and commits.
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EXAMPLES_ROOT } from '../../node/chaincode/package.ts'
import type { RunningPeer } from '../../node/peer/serve.ts'
import { chaincodeRpc, inProcessPeer, peerForSuite, type RpcAnswer } from './in-process-peer.ts'
import { waitFor } from '../helpers/wait.ts'
import { metricValue } from '../helpers/prometheus.ts'

let peer: RunningPeer

const rpc = async (body: Record<string, unknown>): Promise<RpcAnswer> => await chaincodeRpc(peer, body)
const spec = (chaincode: string, args: string[]) => ({ type: 2, chaincodeID: { name: chaincode }, ctorMsg: { args } })

peerForSuite({ peer: { profile: { enabled: true, listenAddress: '127.0.0.1:0' } } }, async p => {
  peer = p
})

describe('a running noops validator', () => {
  it('is healthy on both ports', async () => {
    for (const base of [peer.restUrl!, peer.metricsUrl!.replace(/\/metrics$/, '')]) {
      const res = await fetch(`${base}/healthz`)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ status: 'ok', peerId: peer.node.config.peer.id, height: 1, validator: true, consensus: 'noops', connectedPeers: 0 })
    }
  })

  it('counts chaincode executions, failures and commits in /metrics', async () => {
    const deployed = await rpc({ method: 'deploy', params: { type: 2, chaincodeID: { path: join(EXAMPLES_ROOT, 'example02.ts') }, ctorMsg: { args: ['init', 'a', '100', 'b', '200'] } }, wait: true })
    const name = deployed.result!.message
    expect((await rpc({ method: 'invoke', params: spec(name, ['invoke', 'a', 'b', '1']), wait: true })).result).toBeDefined()
    expect((await rpc({ method: 'invoke', params: spec(name, ['invoke', 'a', 'nobody', '1']), wait: true })).error).toBeDefined()
    expect((await rpc({ method: 'query', params: spec(name, ['query', 'a']) })).result?.message).toBe('99')

    const text = await (await fetch(peer.metricsUrl!)).text()
    const counts = ['deploy', 'invoke', 'query'].map(type => [type, ['calls', 'errors'].map(c => metricValue(text, `weft_chaincode_${c}_total{type="${type}"}`))])
    expect(Object.fromEntries(counts)).toEqual({ deploy: [1, 0], invoke: [2, 1], query: [1, 0] })
    expect(metricValue(text, 'weft_chaincode_duration_seconds_sum{type="deploy"}')).toBeGreaterThan(0)
    expect(metricValue(text, 'weft_ledger_height')).toBe(peer.node.height)
    expect(metricValue(text, 'weft_ledger_last_commit_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60)
    // One noops validator: itself.
    expect([metricValue(text, 'weft_consensus_validators'), metricValue(text, 'weft_consensus_live_validators')]).toEqual([1, 1])
    expect(text).not.toMatch(/^weft_pbft_/m)
  }, 60_000)
})

describe('a PBFT replica alone (N=1, f=0)', () => {
  it('counts the view-change messages it sends and the new views it enters', async () => {
    const { peer: replica, close } = await inProcessPeer({ peer: { id: 'vp0', profile: { enabled: true, listenAddress: '127.0.0.1:0' }, validator: { consensus: { plugin: 'pbft' } } }, pbft: { general: { N: 1, f: 0 } } })
    try {
      const counts = async (): Promise<number[]> => {
        const text = await (await fetch(replica.metricsUrl!)).text()
        return ['weft_pbft_view', 'weft_pbft_view_changes_sent_total', 'weft_pbft_new_views_installed_total'].map(name => metricValue(text, name))
      }
      expect(await counts()).toEqual([0, 0, 0])
      expect(replica.node.requestViewChange()).toBe(true)
      // Its own view-change is a quorum of one; as view 1's primary it sends the new-view and enters it.
      await waitFor('view 1 to be installed', async () => (await counts())[2] === 1)
      expect(await counts()).toEqual([1, 1, 1])
    } finally {
      await close()
    }
  }, 60_000)
})
