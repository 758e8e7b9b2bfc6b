import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { root } from '../helpers/processes.ts'
import { WeftProcesses } from '../helpers/weft-processes.ts'

// `weft node start` as the README runs it (from the repo, so ./core.yaml applies), on test ports.
let procs: WeftProcesses | undefined
afterEach(async () => { await procs?.stop(); procs = undefined })

async function peer (env: Record<string, string> = {}): Promise<WeftProcesses> {
  procs = await WeftProcesses.create(1, () => ({ CORE_NOOPS_BLOCK_WAIT: '100ms', ...env }))
  await procs.start(0)
  return procs
}

describe('weft node start (the README\'s peer)', () => {
  it('serves, commits a JS chaincode\'s transactions, stops cleanly on Ctrl-C and reopens its chain', async () => {
    const w = await peer()
    const rest = w.rest(0)
    const dataDir = w.dataDir(0)
    await access(join(dataDir, 'peer.pid'))

    const deployed = await w.rpc(0, 'deploy', { type: 2, chaincodeID: { path: join(root, 'examples/chaincode/example02.ts') }, ctorMsg: { args: ['init', 'a', '100', 'b', '200'] } })
    const name = deployed.result!.message
    expect(name).toMatch(/^[0-9a-f]{128}$/)
    await w.waitFor('the deploy to commit', async () => (await w.rpc(0, 'query', { type: 2, chaincodeID: { name }, ctorMsg: { args: ['query', 'a'] } })).result)
    const invoked = await w.rpc(0, 'invoke', { type: 2, chaincodeID: { name }, ctorMsg: { args: ['invoke', 'a', 'b', '10'] } })
    const txid = invoked.result!.message
    await w.waitFor('the invoke to commit', async () => (await fetch(`${rest}/transactions/${txid}`)).ok)
    expect((await w.rpc(0, 'query', { type: 2, chaincodeID: { name }, ctorMsg: { args: ['query', 'a'] } })).result?.message).toBe('90')
    const chain = await (await fetch(`${rest}/chain`)).json() as { height: number, currentBlockHash: string }
    expect(chain.height).toBe(3)

    expect(await w.kill(0, 'SIGINT')).toEqual({ code: 0, signal: null })
    await expect(access(join(dataDir, 'peer.pid'))).rejects.toThrow()

    await w.start(0)
    const again = await (await fetch(`${rest}/chain`)).json() as { height: number, currentBlockHash: string }
    expect(again).toEqual(chain)
    expect((await w.rpc(0, 'query', { type: 2, chaincodeID: { name }, ctorMsg: { args: ['query', 'b'] } })).result?.message).toBe('210')
    expect(await w.kill(0, 'SIGTERM')).toEqual({ code: 0, signal: null })
  }, 120_000)

  it('prints a banner whose every address answers, each line once', async () => {
    const w = await peer({ CORE_PEER_PROFILE_ENABLED: 'true' })
    const banner = w.output(0).split('\n').filter(l => /^ {2}(gRPC|REST|metrics|libp2p|web) /.test(l))
    expect(new Set(banner).size).toBe(banner.length)
    const urls = banner.flatMap(l => l.match(/https?:\/\/\S+/g) ?? [])
    expect(urls).toEqual([w.rest(0), `http://127.0.0.1:${w.port(0, 'metrics')}/metrics`])
    for (const url of urls) expect((await fetch(url.endsWith('/metrics') ? url : `${url}/chain`)).status, url).toBe(200)
    const multiaddrs = banner.find(l => l.startsWith('  libp2p '))!.trim().split(/\s+/).slice(1)
    expect(new Set(multiaddrs).size).toBe(multiaddrs.length)
    expect(multiaddrs.every(m => m.startsWith('/ip4/127.0.0.1/tcp/'))).toBe(true)
    expect(await w.kill(0, 'SIGTERM')).toEqual({ code: 0, signal: null })
  }, 60_000)
})
