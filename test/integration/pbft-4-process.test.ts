// Four `weft node start` processes on 127.0.0.1 run PBFT over libp2p: kill -9 of the primary costs
// one view change and commits go on; the killed peer restarts on its data directory and catches
// up to the same chain and state hash.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePorts } from '../free-ports.ts'
import { loadOrCreateIdentity } from '../../node/peer/identity.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
// Four ports per replica, asked of the OS when the test starts.
let ports: number[] = []
beforeAll(async () => { ports = await freePorts(16) })
const N = 4
const port = (i: number, k: 'rest' | 'grpc' | 'events' | 'libp2p'): number => ports[i * 4 + { rest: 0, grpc: 1, events: 2, libp2p: 3 }[k]]
const rest = (i: number): string => `http://127.0.0.1:${port(i, 'rest')}`

interface Peer { child: ChildProcess, out: string[] }
const peers: Array<Peer | undefined> = []
let work: string

afterAll(async () => {
  for (const p of peers) if (p?.child.exitCode === null) p.child.kill('SIGKILL')
  if (work !== undefined) await rm(work, { recursive: true, force: true })
})

function env (i: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CORE_PEER_ID: `vp${i}`,
    CORE_PEER_FILESYSTEMPATH: join(work, `vp${i}`),
    CORE_PEER_ADDRESS: `127.0.0.1:${port(i, 'grpc')}`,
    CORE_PEER_LISTENADDRESS: `127.0.0.1:${port(i, 'grpc')}`,
    CORE_REST_ADDRESS: `127.0.0.1:${port(i, 'rest')}`,
    CORE_PEER_VALIDATOR_EVENTS_ADDRESS: `127.0.0.1:${port(i, 'events')}`,
    CORE_PEER_LIBP2P_ADDRESS: `127.0.0.1:${port(i, 'libp2p')}`,
    CORE_PEER_VALIDATOR_CONSENSUS_PLUGIN: 'pbft',
    CORE_PEER_VALIDATOR_NETWORK: join(work, 'network.yaml'),
    CORE_PBFT_GENERAL_K: '2',
    CORE_PBFT_GENERAL_TIMEOUT_BATCH: '200ms',
    CORE_WEB_ENABLED: 'false',
    CORE_LOGGING_LEVEL: 'info'
  }
}

async function start (i: number): Promise<void> {
  const child = spawn(process.execPath, [join(root, 'bin/weft.mjs'), 'node', 'start'], { cwd: root, env: env(i), stdio: ['ignore', 'pipe', 'pipe'] })
  const p: Peer = { child, out: [] }
  peers[i] = p
  child.stdout!.on('data', (d: Buffer) => p.out.push(d.toString()))
  child.stderr!.on('data', (d: Buffer) => p.out.push(d.toString()))
  await until(async () => p.out.join('').includes('REST    http') ? true : undefined, `vp${i} to start`, 30_000, () => {
    if (child.exitCode !== null) throw new Error(`vp${i} exited (${child.exitCode}): ${p.out.join('')}`)
  })
}

async function until<T> (fn: () => Promise<T | undefined>, what: string, ms = 30_000, check?: () => void): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    check?.()
    const v = await fn().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

async function rpc (i: number, method: string, params: unknown): Promise<{ result?: { message: string }, error?: { message: string } }> {
  const res = await fetch(`${rest(i)}/chaincode`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }) })
  return await res.json() as { result?: { message: string } }
}

async function chain (i: number): Promise<{ height: number, currentBlockHash: string }> {
  return await (await fetch(`${rest(i)}/chain`)).json() as { height: number, currentBlockHash: string }
}

async function stateHash (i: number): Promise<string> {
  const { height } = await chain(i)
  return ((await (await fetch(`${rest(i)}/chain/blocks/${height - 1}`)).json()) as { stateHash?: string }).stateHash ?? ''
}

const committedOn = async (txid: string, on: number[]): Promise<true | undefined> =>
  (await Promise.all(on.map(async i => (await fetch(`${rest(i)}/transactions/${txid}`)).ok))).every(Boolean) ? true : undefined

const views = (i: number): number[] => [...peers[i]!.out.join('').matchAll(/accepting new-view to view (\d+)/g)].map(m => Number(m[1]))

describe('PBFT over libp2p: four Node processes', () => {
  it('survives kill -9 of the primary with one view change, and the restarted peer catches up', async () => {
    work = await mkdtemp(join(tmpdir(), 'weft-pbft4-'))
    const ids: string[] = []
    for (let i = 0; i < N; i++) ids.push((await loadOrCreateIdentity(join(work, `vp${i}`, 'identity.key'))).publicKey.toString())
    await writeFile(join(work, 'network.yaml'), 'validators:\n' + ids.map((id, i) =>
      `  - { name: vp${i}, peerId: ${id}, address: /ip4/127.0.0.1/tcp/${port(i, 'libp2p')}/ws/p2p/${id} }\n`).join(''))
    await Promise.all([0, 1, 2, 3].map(start))

    const deployed = await until(async () => (await rpc(1, 'deploy', { type: 2, chaincodeID: { path: join(root, 'examples/chaincode/example02.ts') }, ctorMsg: { args: ['init', 'a', '1000', 'b', '0'] } })).result, 'deploy accepted')
    const cc = { type: 2, chaincodeID: { name: deployed.message } }
    for (let i = 0; i < N; i++) await until(async () => (await rpc(i, 'query', { ...cc, ctorMsg: { args: ['query', 'a'] } })).result, `the deploy on vp${i}`, 60_000)

    const invoke = async (via: number, on: number[]): Promise<void> => {
      const txid = (await rpc(via, 'invoke', { ...cc, ctorMsg: { args: ['invoke', 'a', 'b', '1'] } })).result!.message
      await until(() => committedOn(txid, on), `${txid} on ${on.map(i => `vp${i}`).join(',')}`, 60_000)
    }
    for (let k = 0; k < 4; k++) await invoke(1 + k % 3, [0, 1, 2, 3])

    // kill -9 the primary of view 0; the others change view once and go on.
    peers[0]!.child.kill('SIGKILL')
    for (let k = 0; k < 4; k++) await invoke(1 + k % 3, [1, 2, 3])
    for (const i of [1, 2, 3]) expect(views(i), `vp${i}'s view changes`).toEqual([1])

    // It restarts on its data directory and catches up (blocks, state, view) with the traffic.
    await start(0)
    await until(async () => {
      await invoke(1, [1, 2, 3])
      const heads = await Promise.all([0, 1, 2, 3].map(chain))
      return heads.every(h => h.currentBlockHash === heads[1].currentBlockHash) ? true : undefined
    }, 'vp0 to catch up', 90_000)
    const hashes = await Promise.all([0, 1, 2, 3].map(stateHash))
    expect(new Set(hashes).size).toBe(1)
    expect(hashes[0]).not.toBe('')
    const balances = await Promise.all([0, 1, 2, 3].map(async i => (await rpc(i, 'query', { ...cc, ctorMsg: { args: ['query', 'b'] } })).result?.message))
    expect(new Set(balances).size).toBe(1)
    for (const i of [1, 2, 3]) expect(views(i)).toEqual([1])
    console.log(`vp0 after restart: ${peers[0]!.out.join('').match(/(adopting new-view \d+|caught up via state transfer, lastExec now \d+)/g)?.join('; ')}`)
  }, 300_000)
})
