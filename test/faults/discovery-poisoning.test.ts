// Peer list poisoning: what an unauthenticated remote claims (its HELLO address, the peers it
// lists in DISC_PEERS) is tried but never persisted, stays bounded, is not redialled every round,
// and an undialable address (927.0.0.1) is dropped, in memory and across restarts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { GrpcChatDialer } from '../../node/grpc/chat-dialer.ts'
import { GrpcTransport } from '../../node/grpc/grpc-transport.ts'
import { timestampAt } from '../../src/ledger/block.ts'
import { DiscoveryList, loadDiscoveryList, storeDiscoveryList } from '../../src/peer/discovery.ts'
import { helloMessage, peersMessage } from '../../src/peer/messages.ts'
import { createPeer, type Peer } from '../../src/peer/peer.ts'
import { Message_Type, PeerEndpoint_Type, type PeerEndpoint } from '../../src/protos/fabric_pb.ts'
import { create } from '@bufbuild/protobuf'
import { BlockchainInfoSchema, PeerEndpointSchema } from '../../src/protos/fabric_pb.ts'
import type { ChatDialer } from '../../src/transport/chat-server.ts'
import { memoryChatPair, MemoryNetwork } from '../../src/transport/memory.ts'
import { seededRandom } from '../../src/util/scheduler.ts'
import { transportDialer } from '../../src/transport/peer-transport.ts'
import { memoryPeer, newLedger, testInit } from '../integration/peer-helpers.ts'
import { captureLogs } from '../helpers/logs.ts'
import { waitFor } from '../helpers/wait.ts'

let logs: ReturnType<typeof captureLogs>
const peers: Peer[] = []
beforeEach(() => { logs = captureLogs() })
afterEach(async () => {
  await Promise.all(peers.splice(0).map(async p => await p.stop()))
  logs.restore()
})

const endpoint = (name: string, address: string): PeerEndpoint =>
  create(PeerEndpointSchema, { ID: { name }, address, type: PeerEndpoint_Type.VALIDATOR })

/** Counts every dial the victim makes, per address. */
function counting (dialer: ChatDialer): { dialer: ChatDialer, dials: Map<string, number> } {
  const dials = new Map<string, number>()
  return {
    dials,
    dialer: {
      ...dialer,
      canDial: dialer.canDial?.bind(dialer),
      async dialChat (address, options) {
        dials.set(address, (dials.get(address) ?? 0) + 1)
        return await dialer.dialChat(address, options)
      }
    }
  }
}

describe('discovery list', () => {
  it('keeps claims within maxNodes, drops a claim at its first failed dial and backs off before taking it again', () => {
    const list = new DiscoveryList({ maxNodes: 3, expiry: 1000, claimBackoff: 100, claimRetry: 500 })
    expect(list.reached('vp1', 0)).toBe(true)
    expect([list.claim('a', 0), list.claim('b', 0), list.claim('c', 0)]).toEqual([true, true, false])
    expect(list.persisted()).toEqual(['vp1'])
    expect(list.unreachable('a', 10)).toBe(false)
    expect(list.has('a')).toBe(false)
    expect(list.claim('a', 100)).toBe(false)
    expect(list.claim('a', 110)).toBe(true)
    // Each further failure doubles the wait, up to claimRetry.
    list.unreachable('a', 110)
    expect([list.claim('a', 300), list.claim('a', 310)]).toEqual([false, true])
    list.unreachable('a', 310)
    expect([list.claim('a', 709), list.claim('a', 710)]).toEqual([false, true])
    list.unreachable('a', 710)
    expect([list.claim('a', 1209), list.claim('a', 1210)]).toEqual([false, true])
  })

  it('forgets a verified address only once it has been unreachable for expiry', () => {
    const list = new DiscoveryList({ maxNodes: 10, expiry: 1000, claimBackoff: 100, claimRetry: 500 })
    list.reached('vp1', 0)
    expect(list.unreachable('vp1', 999)).toBe(false)
    expect(list.persisted()).toEqual(['vp1'])
    list.reached('vp1', 1500)
    expect(list.unreachable('vp1', 2400)).toBe(false)
    expect(list.unreachable('vp1', 2500)).toBe(true)
    expect(list.all()).toEqual([])
  })
})

describe('a peer under a poisoning remote', () => {
  it('tries planted addresses once per claimRetry, persists none of them, and keeps serving honest peers', async () => {
    const net = new MemoryNetwork()
    const honest = await memoryPeer(net, 'vp1')
    peers.push(honest)
    const ledger = await newLedger()
    const { dialer, dials } = counting(net.dialer('vp0'))
    const victim = createPeer(testInit('vp0', { discovery: { period: 20, touchPeriod: 20, limits: { maxNodes: 16, expiry: 60_000, claimBackoff: 60_000, claimRetry: 60_000 } } }),
      { ledger, dialer, random: seededRandom(3) })
    net.listen('vp0', victim)
    peers.push(victim)
    await victim.start()
    await victim.chatWithPeer('vp1')
    await waitFor('honest peer registered', () => victim.peerIDs().includes('vp1'))

    // The attacker dials in, says HELLO from a planted address and answers every DISC_GET_PEERS with 40 more.
    const [evil, theirs] = memoryChatPair('evil', 'vp0')
    void victim.handleChat(theirs, false).catch(() => {})
    await evil.send(helloMessage(endpoint('evil', 'planted-hello'), create(BlockchainInfoSchema, { height: 0n }), timestampAt(0)))
    const planted = Array.from({ length: 40 }, (_, i) => endpoint(`p${i}`, `planted-${i}`))
    let asked = 0
    void (async () => {
      for (;;) {
        const m = await evil.recv().catch(() => undefined)
        if (m === undefined) return
        if (m.type === Message_Type.DISC_GET_PEERS) { asked++; await evil.send(peersMessage(planted)).catch(() => {}) }
      }
    })()
    await waitFor('ten discovery rounds', () => asked >= 10, 5000)

    const plantedDials = [...dials].filter(([a]) => a.startsWith('planted-'))
    // Each planted address is tried once and then backs off (a minute here), not every round.
    expect(plantedDials.length).toBeGreaterThan(0)
    for (const [a, count] of plantedDials) expect([a, count]).toEqual([a, 1])
    expect(victim.discovery.all().filter(a => a.startsWith('planted-')).length).toBeLessThanOrEqual(16)
    expect(await loadDiscoveryList(ledger.cols.persist)).toEqual(['vp1'])
    expect(victim.peerIDs().sort()).toEqual(['evil', 'vp1'])
  })

  it('drops undialable stored addresses at start', async () => {
    const ledger = await newLedger()
    await storeDiscoveryList(ledger.cols.persist, ['127.0.0.1:7051', '927.0.0.1:47099', 'not an address', '/ip4/127.0.0.1/tcp/1/ws'])
    const dialer = transportDialer([new GrpcTransport('127.0.0.1:7999')])
    const p = createPeer(testInit('vp0', { address: '127.0.0.1:7999', discovery: { persist: true } }), { ledger, dialer, random: seededRandom(1) })
    peers.push(p)
    await p.start()
    expect(await loadDiscoveryList(ledger.cols.persist)).toEqual(['127.0.0.1:7051'])
    expect(p.discovery.all()).toEqual(['127.0.0.1:7051'])
  })

  it('refuses to dial a host:port whose host is no IP address or DNS name', () => {
    const d = new GrpcChatDialer({})
    expect(['927.0.0.1:47099', '1.2.3:80', 'a..b:80', 'host:0', '-x:80'].map(a => d.canDial(a))).toEqual([false, false, false, false, false])
    expect(['127.0.0.1:7051', 'vp0:7051', '[::1]:7051', 'peer-1.example.org:7051'].map(a => d.canDial(a))).toEqual([true, true, true, true])
  })
})
