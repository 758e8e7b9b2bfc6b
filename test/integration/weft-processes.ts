// The harness for tests that run several `weft node start` processes on 127.0.0.1: ports from the
// OS, one data directory each, start / kill -9 / SIGTERM, REST helpers, and user-started dev-mode
// chaincode (a Go-shim-exact client registering over gRPC, as `CORE_CHAINCODE_ID_NAME=mycc
// ./chaincode` does).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { credentials, type ClientDuplexStream } from '@grpc/grpc-js'
import type { Chaincode } from '../../src/chaincode/shim/chaincode.ts'
import { ChaincodeSupport as ChaincodeSupportService, type ChaincodeMessage } from '../../src/protos/chaincode_pb.ts'
import { callStream, clientConstructor } from '../../node/grpc/service-definition.ts'
import { freePorts } from '../free-ports.ts'
import { GoShimEmulator } from '../interop/go-shim.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
type PortKind = 'rest' | 'grpc' | 'events' | 'libp2p'

export interface ChainInfo { height: number, currentBlockHash: string }

export class WeftProcesses {
  readonly logs: string[]
  private readonly procs: Array<ChildProcess | undefined> = []
  private readonly chaincodes = new Map<number, Array<() => void>>()
  private constructor (readonly n: number, readonly dir: string, private readonly ports: number[], private readonly envOf: (i: number) => Record<string, string>) {
    this.logs = Array.from({ length: n }, () => '')
  }

  /** `envOf(i)` adds each peer's own CORE_* variables to the defaults (ids vpN, loopback ports, data dirs). */
  static async create (n: number, envOf: (i: number, w: WeftProcesses) => Record<string, string>): Promise<WeftProcesses> {
    const dir = await mkdtemp(join(tmpdir(), 'weft-procs-'))
    let w: WeftProcesses | undefined
    w = new WeftProcesses(n, dir, await freePorts(n * 4), i => envOf(i, w!))
    for (let i = 0; i < n; i++) await mkdir(join(dir, `vp${i}`), { recursive: true })
    return w
  }

  port (i: number, k: PortKind): number { return this.ports[i * 4 + { rest: 0, grpc: 1, events: 2, libp2p: 3 }[k]] }
  rest (i: number): string { return `http://127.0.0.1:${this.port(i, 'rest')}` }
  grpc (i: number): string { return `127.0.0.1:${this.port(i, 'grpc')}` }
  dataDir (i: number): string { return join(this.dir, `vp${i}`) }
  alive (i: number): boolean { return this.procs[i]?.exitCode === null && this.procs[i]?.signalCode === null }

  async writeFile (name: string, text: string | Uint8Array): Promise<string> {
    const path = join(this.dir, name)
    await writeFile(path, text)
    return path
  }

  /** Starts vpI (`nodeArgs` go to node itself, e.g. --cpu-prof); resolves once its REST server listens. */
  async start (i: number, args: string[] = [], nodeArgs: string[] = []): Promise<void> {
    const child = spawn(process.execPath, [...nodeArgs, join(root, 'bin/weft.mjs'), 'node', 'start', ...args], {
      cwd: root,
      env: {
        ...process.env,
        CORE_PEER_ID: `vp${i}`,
        CORE_PEER_FILESYSTEMPATH: this.dataDir(i),
        CORE_PEER_ADDRESS: this.grpc(i),
        CORE_PEER_LISTENADDRESS: this.grpc(i),
        CORE_REST_ADDRESS: `127.0.0.1:${this.port(i, 'rest')}`,
        CORE_PEER_VALIDATOR_EVENTS_ADDRESS: `127.0.0.1:${this.port(i, 'events')}`,
        CORE_PEER_LIBP2P_ADDRESS: `127.0.0.1:${this.port(i, 'libp2p')}`,
        CORE_WEB_ENABLED: 'false',
        CORE_LOGGING_PEER: process.env.WEFT_IT_LOG ?? 'info',
        ...this.envOf(i)
      },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    this.procs[i] = child
    const append = (d: Buffer): void => { this.logs[i] += d.toString() }
    child.stdout!.on('data', append)
    child.stderr!.on('data', append)
    const mark = this.logs[i].length
    await this.until(`vp${i} to start`, async () => this.logs[i].slice(mark).includes('REST    http') ? true : undefined, 30_000)
  }

  /** kill -9 (or SIGTERM) vpI and wait for the process to end; its dev-mode chaincodes go with it. */
  async kill (i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.procs[i]
    if (p === undefined || p.exitCode !== null) return
    const gone = new Promise(resolve => p.once('exit', resolve))
    p.kill(signal)
    await gone
    for (const stop of this.chaincodes.get(i) ?? []) stop()
    this.chaincodes.delete(i)
  }

  /** Registers a user-started chaincode `name` at vpI over gRPC (dev mode) and waits for REGISTERED. */
  async attachChaincode (i: number, name: string, cc: Chaincode): Promise<void> {
    const Client = clientConstructor(ChaincodeSupportService)
    const client = new Client(this.grpc(i), credentials.createInsecure())
    const call = (client as unknown as { register: () => ClientDuplexStream<ChaincodeMessage, ChaincodeMessage> }).register()
    const shim = new GoShimEmulator(callStream<ChaincodeMessage, ChaincodeMessage>(call, 'client', this.grpc(i)), cc)
    void shim.chatWithPeer(name).catch(() => {})
    const stops = this.chaincodes.get(i) ?? []
    stops.push(() => { call.cancel(); client.close() })
    this.chaincodes.set(i, stops)
    await this.until(`${name} to register at vp${i}`, async () => shim.state !== 'created' ? true : undefined, 10_000)
  }

  async rpc (i: number, method: string, params: unknown, wait?: string): Promise<{ result?: { message: string }, error?: { data?: string } }> {
    const res = await fetch(`${this.rest(i)}/chaincode`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1, ...(wait === undefined ? {} : { wait }) }) })
    return await res.json() as { result?: { message: string } }
  }

  async chain (i: number): Promise<ChainInfo> { return await (await fetch(`${this.rest(i)}/chain`)).json() as ChainInfo }

  async until<T> (what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
    const deadline = Date.now() + ms
    while (Date.now() < deadline) {
      const v = await fn().catch(() => undefined)
      if (v !== undefined) return v
      await new Promise(resolve => setTimeout(resolve, 200))
    }
    throw new Error(`timed out waiting for ${what}\n${this.logs.map((l, i) => `--- vp${i}\n${l.slice(-3000)}`).join('\n')}`)
  }

  async stop (): Promise<void> {
    for (let i = 0; i < this.n; i++) await this.kill(i)
    await rm(this.dir, { recursive: true, force: true })
  }
}
