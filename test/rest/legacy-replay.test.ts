// Replays the request bodies of legacy-chain.json (recorded against Fabric 0.6.1's own peer)
// through the REST layer over the fake example02 processor, one block per workload group as
// the recording did. Txids and timestamps differ from the recording; everything else must
// match: response bodies and statuses (txids masked), every block's JSON apart from txids,
// timestamps and the hash chain, the state hash after every block, and the query results.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/index.ts'
import { toHex } from '../../src/crypto/bytes.ts'
import { startRest, type RestServer } from '../../node/rest/server.ts'
import { fakePeer, type FakePeer } from './fake-peer.ts'
import { http } from './http.ts'

const legacy = JSON.parse(readFileSync(new URL('../vectors/legacy-chain.json', import.meta.url), 'utf8'))
const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g

/** A block's REST JSON with what a re-run cannot reproduce blanked out. */
function masked (json: string): unknown {
  const b = JSON.parse(json)
  for (const tx of b.transactions ?? []) {
    if (tx.type !== 1) tx.txid = '<txid>'
    tx.timestamp = '<time>'
  }
  if (b.previousBlockHash !== undefined) b.previousBlockHash = '<hash>'
  if (b.nonHashData !== undefined) b.nonHashData.localLedgerCommitTimestamp = '<time>'
  return b
}

let peer: FakePeer
let rest: RestServer
beforeAll(async () => {
  peer = await fakePeer()
  rest = await startRest({ peer, config: loadConfig({ chaincodeDevMode: true }), address: '127.0.0.1:0' })
})
afterAll(async () => {
  await rest.close()
  await peer.close()
})

describe('legacy-chain.json workload through REST', () => {
  it('answers every request as Fabric did and builds the same chain', async () => {
    for (const group of legacy.workload) {
      expect(peer.ledger.height).toBe(group.height_before)
      for (const r of group.requests) {
        const a = await http(rest.url, 'POST', '/chaincode', r.request_body)
        expect(a.status).toBe(r.http_status)
        expect(a.body.replace(uuid, '<txid>')).toBe(r.response_body.replace(uuid, '<txid>'))
      }
      await peer.flush()
      expect(peer.ledger.height).toBe(group.height_after)
      const n = group.height_after - 1
      const recorded = legacy.blocks[n]
      const ours = await http(rest.url, 'GET', `/chain/blocks/${n}`)
      expect(masked(ours.body)).toEqual(masked(recorded.rest_json))
      expect(ours.body.endsWith('\n')).toBe(true)
      expect(toHex((await peer.ledger.getBlockByNumber(n))!.stateHash)).toBe(recorded.state_hash_hex)
    }
    for (const q of legacy.queries_after_workload) {
      const a = await http(rest.url, 'POST', '/chaincode', q.request_body)
      expect([a.status, a.body]).toEqual([q.http_status, q.response_body])
    }
    const chain = JSON.parse((await http(rest.url, 'GET', '/chain')).body)
    expect(Object.keys(chain)).toEqual(Object.keys(JSON.parse(legacy.chain_rest_json)))
    expect(chain.height).toBe(legacy.height)
    expect(toHex((await peer.ledger.getTempStateHash())!)).toBe(legacy.final_state_hash_hex)
  })
})
