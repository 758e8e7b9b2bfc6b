import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePorts } from '../free-ports.ts'

// Four `weft node start` processes on 127.0.0.1 running PBFT over libp2p: kill -9 of a backup
// keeps commits flowing and the backup restarts and catches up to the same chain and state;
// kill -9 of the primary causes one view change, after which commits flow again; the old primary
// restarts from its persisted PBFT state and the network keeps committing.

const root = fileURLToPath(new URL('../..', import.meta.url))
// Four ports per replica, asked of the OS when the test starts.
let ports: number[] = []
beforeAll(async () => { ports = await freePorts(16) })
const port = (i: number, k: 'rest' | 'grpc' | 'events' | 'libp2p') => ports[i * 4 + { rest: 0, grpc: 1, events: 2, libp2p: 3 }[k]]
const rest = (i: number) => `http://127.0.0.1:${port(i, 'rest')}`
const procs: Array<ChildProcess | undefined> = []
const logs: string[] = ['', '', '', '']
let workDir = ''
afterAll(async () => {
  if (process.env.WEFT_IT_LOGDIR !== undefined) for (let i = 0; i < 4; i++) await writeFile(join(process.env.WEFT_IT_LOGDIR, `vp${i}.log`), logs[i])
  for (const p of procs) if (p !== undefined && p.exitCode === null) p.kill('SIGKILL')
  if (workDir !== '') await rm(workDir, { recursive: true, force: true })
})

async function start (i: number, networkFile: string): Promise<void> {
  const child = spawn(process.execPath, [join(root, 'bin/weft.mjs'), 'node', 'start'], {
    cwd: root,
    env: {
      ...process.env,
      CORE_PEER_ID: `vp${i}`,
      CORE_PEER_FILESYSTEMPATH: join(workDir, `vp${i}`),
      CORE_PEER_ADDRESS: `127.0.0.1:${port(i, 'grpc')}`,
      CORE_PEER_LISTENADDRESS: `127.0.0.1:${port(i, 'grpc')}`,
      CORE_REST_ADDRESS: `127.0.0.1:${port(i, 'rest')}`,
      CORE_PEER_VALIDATOR_EVENTS_ADDRESS: `127.0.0.1:${port(i, 'events')}`,
      CORE_PEER_LIBP2P_ADDRESS: `127.0.0.1:${port(i, 'libp2p')}`,
      CORE_PEER_VALIDATOR_CONSENSUS_PLUGIN: 'pbft',
      CORE_PEER_VALIDATOR_NETWORK: networkFile,
      CORE_PEER_DISCOVERY_PERIOD: '1s',
      CORE_PEER_DISCOVERY_TOUCHPERIOD: '1s',
      CORE_PBFT_GENERAL_BATCHSIZE: '2',
      CORE_PBFT_GENERAL_K: '2',
      CORE_PBFT_GENERAL_TIMEOUT_BATCH: '100ms',
      CORE_PBFT_GENERAL_TIMEOUT_REQUEST: '2s',
      CORE_PBFT_GENERAL_TIMEOUT_VIEWCHANGE: '2s',
      CORE_WEB_ENABLED: 'false',
      CORE_LOGGING_PEER: process.env.WEFT_IT_LOG ?? 'info'
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  procs[i] = child
  const append = (d: Buffer) => { logs[i] += d.toString() }
  child.stdout!.on('data', append)
  child.stderr!.on('data', append)
  const mark = logs[i].length
  await until(`vp${i} to start`, async () => logs[i].slice(mark).includes('REST    http') ? true : undefined, 30_000)
}

async function until<T> (what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const v = await fn().catch(() => undefined)
    if (v !== undefined) return v
    await new Promise(r => setTimeout(r, 200))
  }
  throw new Error(`timed out waiting for ${what}\n${logs.map((l, i) => `--- vp${i}\n${l.slice(-3000)}`).join('\n')}`)
}

async function rpc (i: number, method: string, params: unknown): Promise<{ result?: { message: string }, error?: { data?: string } }> {
  const res = await fetch(`${rest(i)}/chaincode`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }) })
  return await res.json() as { result?: { message: string } }
}

let sent = 0
async function invoke (i: number, name: string): Promise<void> {
  const r = await rpc(i, 'invoke', { type: 2, chaincodeID: { name }, ctorMsg: { args: ['invoke', 'a', 'b', '1'] } })
  if (r.result === undefined) throw new Error(`invoke at vp${i} refused: ${JSON.stringify(r)}`)
  sent++
}

const chain = async (i: number) => await (await fetch(`${rest(i)}/chain`)).json() as { height: number, currentBlockHash: string }
const query = async (i: number, name: string, key: string) => (await rpc(i, 'query', { type: 2, chaincodeID: { name }, ctorMsg: { args: ['query', key] } })).result?.message

/**
 * Every live replica reports the same chain at least `minHeight` high; returns it. A replica
 * that is behind learns it from the next checkpoint, so while they disagree a transaction is
 * sent now and then (through `via`) to keep checkpoints coming, as live traffic would.
 */
async function agreed (live: number[], minHeight: number, via?: { peer: number, name: string }) {
  let lastNudge = Date.now()
  return await until(`replicas ${live.join(',')} to agree at height ≥ ${minHeight}`, async () => {
    const chains = await Promise.all(live.map(chain))
    if (chains.every(c => c.height >= minHeight && c.currentBlockHash === chains[0].currentBlockHash)) return chains[0]
    if (via !== undefined && Date.now() - lastNudge > 1500) {
      lastNudge = Date.now()
      await invoke(via.peer, via.name)
    }
    return undefined
  }, 90_000)
}

describe('PBFT across four processes, then the old primary restarts', () => {
  it('survives kill -9 of a backup (which restarts and catches up) and of the primary (one view change), and the old primary rejoins', async () => {
    workDir = await mkdtemp(join(tmpdir(), 'weft-pbft-'))
    const validators = []
    for (let i = 0; i < 4; i++) {
      const key = await generateKeyPair('Ed25519')
      await mkdir(join(workDir, `vp${i}`), { recursive: true })
      await writeFile(join(workDir, `vp${i}`, 'identity.key'), privateKeyToProtobuf(key))
      const peerId = peerIdFromPrivateKey(key).toString()
      validators.push({ name: `vp${i}`, peerId, address: `/ip4/127.0.0.1/tcp/${port(i, 'libp2p')}/ws/p2p/${peerId}` })
    }
    const networkFile = join(workDir, 'network.json')
    await writeFile(networkFile, JSON.stringify({ validators }))
    await Promise.all([0, 1, 2, 3].map(i => start(i, networkFile)))

    const deployed = await rpc(1, 'deploy', { type: 2, chaincodeID: { path: join(root, 'examples/chaincode/example02.ts') }, ctorMsg: { args: ['init', 'a', '1000', 'b', '0'] } })
    const name = deployed.result!.message
    // Nudged: a replica whose first request reached the primary late can sit alone in a view change until more traffic comes.
    const first = await agreed([0, 1, 2, 3], 2, { peer: 1, name })
    await until(`vp3 to hold a = ${1000 - sent}`, async () => (await query(3, name, 'a')) === String(1000 - sent) ? true : undefined)

    // kill -9 a backup: the other three still commit.
    procs[3]!.kill('SIGKILL')
    for (let k = 0; k < 4; k++) await invoke(1 + (k % 2), name)
    const afterBackup = await agreed([0, 1, 2], first.height + 1)
    await until('the invokes to commit', async () => (await query(0, name, 'a')) === String(1000 - sent) ? true : undefined)

    // It restarts and, as PBFT works, learns it is behind from the next checkpoints (K = 2) and catches up.
    await start(3, networkFile)
    for (let k = 0; k < 4; k++) await invoke(1 + (k % 2), name)
    await agreed([0, 1, 2, 3], afterBackup.height + 1, { peer: 1, name })
    await until(`vp3 to hold a = ${1000 - sent}`, async () => (await query(3, name, 'a')) === String(1000 - sent) ? true : undefined)

    // kill -9 the primary of view 0: one view change, then commits go on.
    procs[0]!.kill('SIGKILL')
    for (let k = 0; k < 4; k++) await invoke(1 + (k % 3), name)
    await until('the invokes after the primary died to commit', async () => (await query(1, name, 'a')) === String(1000 - sent) ? true : undefined, 90_000)
    await agreed([1, 2, 3], afterBackup.height + 2, { peer: 2, name })
    for (const i of [1, 2, 3]) expect(logs[i]).toMatch(/accepting new-view to view 1\b|sending new-view, v:1\b/)
    for (const i of [1, 2, 3]) expect(logs[i]).not.toMatch(/accepting new-view to view 2\b|sending new-view, v:2\b/)

    // The old primary restarts (from its persisted PBFT state) and the network keeps committing.
    const beforeRestart = await agreed([1, 2, 3], afterBackup.height + 2)
    await start(0, networkFile)
    for (let k = 0; k < 4; k++) await invoke(1 + (k % 3), name)
    await until('the invokes after the old primary restarted to commit', async () => (await query(1, name, 'a')) === String(1000 - sent) ? true : undefined, 90_000)
    await agreed([0, 1, 2, 3], beforeRestart.height + 1, { peer: 2, name })
    await until(`vp0 to hold a = ${1000 - sent}`, async () => (await query(0, name, 'a')) === String(1000 - sent) ? true : undefined)
  }, 400_000)
})
