import { spawn, type ChildProcess } from 'node:child_process'
import { access, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePorts } from '../free-ports.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const ports = { grpc: 0, rest: 0, events: 0, libp2p: 0, metrics: 0 }
let rest = ''
beforeAll(async () => {
  [ports.grpc, ports.rest, ports.events, ports.libp2p, ports.metrics] = await freePorts(5)
  rest = `http://127.0.0.1:${ports.rest}`
})
const dirs: string[] = []
const children: ChildProcess[] = []
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

/** `weft node start` as the README runs it (from the repo, so ./core.yaml applies), on test ports. */
async function startPeer (dataDir: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess, output: () => string }> {
  const child = spawn(process.execPath, [join(root, 'bin/weft.mjs'), 'node', 'start'], {
    cwd: root,
    env: {
      ...process.env,
      CORE_PEER_FILESYSTEMPATH: dataDir,
      CORE_PEER_ADDRESS: `127.0.0.1:${ports.grpc}`,
      CORE_PEER_LISTENADDRESS: `127.0.0.1:${ports.grpc}`,
      CORE_REST_ADDRESS: `127.0.0.1:${ports.rest}`,
      CORE_PEER_VALIDATOR_EVENTS_ADDRESS: `127.0.0.1:${ports.events}`,
      CORE_PEER_LIBP2P_ADDRESS: `127.0.0.1:${ports.libp2p}`,
      CORE_WEB_ENABLED: 'false',
      CORE_NOOPS_BLOCK_WAIT: '100ms',
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  children.push(child)
  let out = ''
  child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { out += d.toString() })
  const deadline = Date.now() + 30_000
  while (!out.includes('REST    http')) {
    if (child.exitCode !== null) throw new Error(`peer exited (${child.exitCode}): ${out}`)
    if (Date.now() > deadline) throw new Error(`peer did not start: ${out}`)
    await new Promise(r => setTimeout(r, 100))
  }
  return { child, output: () => out }
}

async function rpc (method: string, params: unknown): Promise<{ result?: { message: string }, error?: unknown }> {
  const res = await fetch(`${rest}/chaincode`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }) })
  return await res.json() as { result?: { message: string } }
}

async function until<T> (fn: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await fn()
    if (v !== undefined) return v
    await new Promise(r => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

const exited = (c: ChildProcess): Promise<number | null> => new Promise(resolve => c.once('exit', code => resolve(code)))

describe('weft node start (the README\'s peer)', () => {
  it('serves, commits a JS chaincode\'s transactions, stops cleanly on Ctrl-C and reopens its chain', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'weft-node-'))
    dirs.push(dataDir)
    const first = await startPeer(dataDir)
    await access(join(dataDir, 'peer.pid'))

    const deployed = await rpc('deploy', { type: 2, chaincodeID: { path: join(root, 'examples/chaincode/example02.ts') }, ctorMsg: { args: ['init', 'a', '100', 'b', '200'] } })
    const name = deployed.result!.message
    expect(name).toMatch(/^[0-9a-f]{128}$/)
    await until(async () => (await rpc('query', { type: 2, chaincodeID: { name }, ctorMsg: { args: ['query', 'a'] } })).result, 'the deploy to commit')
    const invoked = await rpc('invoke', { type: 2, chaincodeID: { name }, ctorMsg: { args: ['invoke', 'a', 'b', '10'] } })
    const txid = invoked.result!.message
    await until(async () => (await fetch(`${rest}/transactions/${txid}`)).ok ? true : undefined, 'the invoke to commit')
    expect((await rpc('query', { type: 2, chaincodeID: { name }, ctorMsg: { args: ['query', 'a'] } })).result?.message).toBe('90')
    const chain = await (await fetch(`${rest}/chain`)).json() as { height: number, currentBlockHash: string }
    expect(chain.height).toBe(3)

    const code = exited(first.child)
    first.child.kill('SIGINT')
    expect(await code).toBe(0)
    await expect(access(join(dataDir, 'peer.pid'))).rejects.toThrow()

    const second = await startPeer(dataDir)
    const again = await (await fetch(`${rest}/chain`)).json() as { height: number, currentBlockHash: string }
    expect(again).toEqual(chain)
    expect((await rpc('query', { type: 2, chaincodeID: { name }, ctorMsg: { args: ['query', 'b'] } })).result?.message).toBe('210')
    const code2 = exited(second.child)
    second.child.kill('SIGTERM')
    expect(await code2).toBe(0)
  }, 120_000)

  it('prints a banner whose every address answers, each line once', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'weft-node-'))
    dirs.push(dataDir)
    const peer = await startPeer(dataDir, { CORE_PEER_PROFILE_ENABLED: 'true', CORE_PEER_PROFILE_LISTENADDRESS: `127.0.0.1:${ports.metrics}` })
    await until(async () => peer.output().includes('libp2p  ') ? true : undefined, 'the whole banner')
    const banner = peer.output().split('\n').filter(l => /^ {2}(gRPC|REST|metrics|libp2p|web) /.test(l))
    expect(new Set(banner).size).toBe(banner.length)
    const urls = banner.flatMap(l => l.match(/https?:\/\/\S+/g) ?? [])
    expect(urls).toEqual([rest, `http://127.0.0.1:${ports.metrics}/metrics`])
    for (const url of urls) expect((await fetch(url.endsWith('/metrics') ? url : `${url}/chain`)).status, url).toBe(200)
    const multiaddrs = banner.find(l => l.startsWith('  libp2p '))!.trim().split(/\s+/).slice(1)
    expect(new Set(multiaddrs).size).toBe(multiaddrs.length)
    expect(multiaddrs.every(m => m.startsWith('/ip4/127.0.0.1/tcp/'))).toBe(true)
    const code = exited(peer.child)
    peer.child.kill('SIGTERM')
    expect(await code).toBe(0)
  }, 60_000)
})
