// A PBFT network configured the Fabric way: four `weft node start --peer-chaincodedev` processes
// with only Fabric's variables (CORE_PEER_ID=vpN, CORE_PEER_VALIDATOR_CONSENSUS_PLUGIN=pbft,
// CORE_PBFT_GENERAL_N=4, CORE_PEER_DISCOVERY_ROOTNODE=vp0 on vp1..vp3; no network file), started
// at once in a random order, each with its user-started example02 (a Go-shim-exact client over
// gRPC). Over gRPC Chat and over libp2p: commit; kill -9 a backup; commit; restart it (it catches
// up); kill -9 the primary; commit after one view change; restart it; every live replica ends
// with one height, head and state. The third run binds the names to libp2p keys with Weft's
// optional network file (peer.validator.network) instead of a root node.
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterEach, describe, expect, it } from 'vitest'
import * as example02 from '../../examples/chaincode/example02.ts'
import { asChaincode } from '../../src/chaincode/shim/chaincode.ts'
import { Prng } from '../sim/prng.ts'
import { WeftProcesses } from '../helpers/weft-processes.ts'

const cc = asChaincode(example02)
let procs: WeftProcesses | undefined
afterEach(async () => { await procs?.stop(); procs = undefined })

describe.each(['grpc', 'libp2p', 'network-file'] as const)('PBFT the Fabric way over %s', transport => {
  it('survives kill -9 of a backup and of the primary; restarted replicas catch up', async () => {
    let rootnode = ''
    let networkFile = ''
    const w = procs = await WeftProcesses.create(4, i => ({
      ...(networkFile === '' ? {} : { CORE_PEER_VALIDATOR_NETWORK: networkFile }),
      CORE_PEER_VALIDATOR_CONSENSUS_PLUGIN: 'pbft',
      CORE_PBFT_GENERAL_N: '4',
      CORE_PEER_DISCOVERY_ROOTNODE: i === 0 ? '' : rootnode,
      CORE_PEER_DISCOVERY_PERIOD: '1s',
      CORE_PEER_DISCOVERY_TOUCHPERIOD: '1s',
      CORE_PBFT_GENERAL_BATCHSIZE: '2',
      CORE_PBFT_GENERAL_K: '2',
      CORE_PBFT_GENERAL_TIMEOUT_BATCH: '100ms',
      CORE_PBFT_GENERAL_TIMEOUT_REQUEST: '2s',
      CORE_PBFT_GENERAL_TIMEOUT_VIEWCHANGE: '2s',
      CORE_PEER_PROFILE_ENABLED: 'true'
    }))
    /** vpI's PBFT view, as its metrics endpoint shows it. */
    const viewOf = async (i: number): Promise<number> => {
      const shown = /^weft_pbft_view (\d+)$/m.exec(await (await fetch(`http://127.0.0.1:${w.port(i, 'metrics')}/metrics`)).text())
      if (shown === null) throw new Error(`vp${i}'s metrics show no PBFT view`)
      return Number(shown[1])
    }
    const keys = await Promise.all([0, 1, 2, 3].map(async i => {
      const key = await generateKeyPair('Ed25519')
      await w.writeFile(`vp${i}/identity.key`, privateKeyToProtobuf(key))
      const peerId = peerIdFromPrivateKey(key).toString()
      return { name: `vp${i}`, peerId, address: `/ip4/127.0.0.1/tcp/${w.port(i, 'libp2p')}/ws/p2p/${peerId}` }
    }))
    if (transport === 'grpc') rootnode = w.grpc(0)
    else if (transport === 'libp2p') rootnode = keys[0].address
    else networkFile = await w.writeFile('network.json', JSON.stringify({ validators: keys }))
    const start = async (i: number): Promise<void> => {
      await w.start(i, ['--peer-chaincodedev'])
      await w.attachChaincode(i, 'mycc', cc)
    }
    // All four at once, in a random order: vp1..vp3 may dial vp0 before it listens.
    const prng = new Prng(transport.length)
    const order = [0, 1, 2, 3].sort(() => prng.next() - 0.5)
    await Promise.all(order.map(async (i, k) => { await new Promise(resolve => setTimeout(resolve, k * 150)); await start(i) }))
    expect(w.output(1)).toMatch(/Set consensus to NOOPS/)

    const invoke = async (i: number): Promise<void> => {
      const r = await w.rpc(i, 'invoke', { type: 1, chaincodeID: { name: 'mycc' }, ctorMsg: { args: ['invoke', 'a', 'b', '1'] } })
      if (r.result === undefined) throw new Error(`invoke at vp${i} refused: ${JSON.stringify(r)}`)
    }
    const balance = async (i: number): Promise<string | undefined> => (await w.rpc(i, 'query', { type: 1, chaincodeID: { name: 'mycc' }, ctorMsg: { args: ['query', 'a'] } })).result?.message
    /**
     * Every live replica at one height and head, with one balance and a + b = 1000, above
     * `minHeight` (so the phase's invokes made progress); returns the height and the balance.
     * Traffic nudges laggards to the next checkpoint.
     */
    const agreed = async (live: number[], via: number, minHeight: number): Promise<{ height: number, a: number }> => {
      let nudged = Date.now()
      return await w.waitFor(`vp${live.join(',vp')} to agree above height ${minHeight}`, async () => {
        const chains = await Promise.all(live.map(async i => await w.chain(i)))
        const as = await Promise.all(live.map(balance))
        const b = await w.rpc(live[0], 'query', { type: 1, chaincodeID: { name: 'mycc' }, ctorMsg: { args: ['query', 'b'] } })
        const same = chains.every(c => c.currentBlockHash === chains[0].currentBlockHash) && as.every(x => x === as[0])
        if (same && chains[0].height > minHeight && Number(as[0]) + Number(b.result?.message) === 1000) return { height: chains[0].height, a: Number(as[0]) }
        if (Date.now() - nudged > 1500) { nudged = Date.now(); await invoke(via) }
        return undefined
      }, 90_000)
    }

    const deployed = await w.rpc(1, 'deploy', { type: 1, chaincodeID: { name: 'mycc' }, ctorMsg: { args: ['init', 'a', '1000', 'b', '0'] } })
    expect(deployed.result?.message).toBe('mycc')
    // Committed everywhere before the invokes: one sent to another replica could be ordered first and fail.
    for (const i of [0, 1, 2, 3]) await w.waitFor(`the deploy at vp${i}`, async () => await balance(i) === '1000')
    for (let k = 0; k < 4; k++) await invoke(1 + (k % 3))
    const first = await agreed([0, 1, 2, 3], 1, 2)
    expect(first.a).toBeLessThan(1000)

    await w.kill(3)
    for (let k = 0; k < 4; k++) await invoke(1 + (k % 2))
    const withoutBackup = await agreed([0, 1, 2], 1, first.height)

    await start(3)
    for (let k = 0; k < 4; k++) await invoke(1 + (k % 3))
    const caughtUp = await agreed([0, 1, 2, 3], 1, withoutBackup.height)

    // kill -9 the primary of the view in force (view 0's unless start-up already changed it).
    const view = await viewOf(1)
    const primary = view % 4
    const backups = [0, 1, 2, 3].filter(i => i !== primary)
    await w.kill(primary)
    for (let k = 0; k < 4; k++) await invoke(backups[k % 3])
    const withoutPrimary = await agreed(backups, backups[0], caughtUp.height)
    // One view change: every backup is in the next view, none went past it.
    expect(await Promise.all(backups.map(viewOf))).toEqual(backups.map(() => view + 1))

    await start(primary)
    for (let k = 0; k < 4; k++) await invoke(backups[k % 3])
    await agreed([0, 1, 2, 3], backups[0], withoutPrimary.height)
    // The mesh heals: every peer lists every live peer, and only those.
    const listed = async (i: number): Promise<string> => ((await (await fetch(`${w.rest(i)}/network/peers`)).json()) as { peers: Array<{ ID: { name: string } }> }).peers.map(p => p.ID.name).sort().join(',')
    for (const i of [0, 1, 2, 3]) await w.waitFor(`vp${i} to list every peer`, async () => await listed(i) === 'vp0,vp1,vp2,vp3', 30_000)
    await w.kill(2)
    await w.waitFor('vp1 to drop vp2', async () => await listed(1) === 'vp0,vp1,vp3', 30_000)
    await start(2)

    // All four die at once and resume from their stores.
    const before = await w.chain(1)
    await Promise.all([0, 1, 2, 3].map(async i => { await w.kill(i) }))
    await Promise.all([0, 1, 2, 3].map(async i => { await start(i) }))
    expect((await w.chain(2)).height).toBe(before.height)
    for (let k = 0; k < 4; k++) await invoke(1 + (k % 3))
    await agreed([0, 1, 2, 3], 1, before.height)
  }, 400_000)
})
