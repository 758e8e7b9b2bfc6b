// `weft node start` processes on 127.0.0.1 for tests and benchmarks: ports from the OS, one data
// directory each (kept across restarts), start / signal / stop, REST helpers, and user-started
// dev-mode chaincode (a Go-shim-exact client registering over gRPC, as `CORE_CHAINCODE_ID_NAME=mycc
// ./chaincode` does).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { credentials, type ClientDuplexStream } from '@grpc/grpc-js'
import type { Chaincode } from '../../src/chaincode/shim/chaincode.ts'
import { ChaincodeSupport as ChaincodeSupportService, type ChaincodeMessage } from '../../src/protos/chaincode_pb.ts'
import { callStream, clientConstructor } from '../../node/grpc/service-definition.ts'
import { freePorts } from '../../node/net/free-ports.ts'
import { WEFT_NODE_ENV, WEFT_NODE_FLAGS } from '../../node/peer/memory-limits.ts'
import { GoShimEmulator } from '../interop/go-shim.ts'
import { Proc, unlessEnded, type Exit } from './processes.ts'
import { waitFor, type WaitOptions } from './wait.ts'

const kinds = ['rest', 'grpc', 'events', 'libp2p', 'metrics'] as const
type PortKind = typeof kinds[number]

/**
 * The last line of the summary `weft node start` prints on stdout once every server listens and
 * the peer has started (node/cli/node.ts), whatever the log level: the peer is ready.
 */
const READY = /^ {2}libp2p {2}/m

export interface ChainInfo { height: number, currentBlockHash: string }

export class WeftProcesses {
  private readonly procs: Array<Proc | undefined> = []
  /** Processes this harness is ending: their exit fails no wait. */
  private readonly stopping = new Set<Proc>()
  /** Each peer's output of its runs before the latest. */
  private readonly earlier: string[] = []
  private readonly chaincodes = new Map<number, Array<() => void>>()
  private constructor (readonly n: number, readonly dir: string, private readonly ports: number[], private readonly envOf: (i: number) => Record<string, string>) {}

  /** `envOf(i)` adds each peer's own CORE_* variables to the defaults (ids vpN, loopback ports, data dirs). */
  static async create (n: number, envOf: (i: number, w: WeftProcesses) => Record<string, string> = () => ({})): Promise<WeftProcesses> {
    const dir = await mkdtemp(join(tmpdir(), 'weft-procs-'))
    let w: WeftProcesses | undefined
    w = new WeftProcesses(n, dir, await freePorts(n * kinds.length), i => envOf(i, w!))
    for (let i = 0; i < n; i++) await mkdir(w.dataDir(i), { recursive: true })
    return w
  }

  port (i: number, k: PortKind): number { return this.ports[i * kinds.length + kinds.indexOf(k)] }
  rest (i: number): string { return `http://127.0.0.1:${this.port(i, 'rest')}` }
  grpc (i: number): string { return `127.0.0.1:${this.port(i, 'grpc')}` }
  dataDir (i: number): string { return join(this.dir, `vp${i}`) }
  /** vpI's process id, while it runs. */
  pid (i: number): number | undefined { return this.alive(i) ? this.procs[i]?.pid : undefined }
  alive (i: number): boolean { return this.procs[i]?.alive === true }
  /** What vpI printed (stdout and stderr), every run of it. */
  output (i: number): string { return (this.earlier[i] ?? '') + (this.procs[i]?.output ?? '') }

  async writeFile (name: string, text: string | Uint8Array): Promise<string> {
    const path = join(this.dir, name)
    await writeFile(path, text)
    return path
  }

  /** Starts vpI (`nodeArgs` go to node itself, e.g. --cpu-prof, after the flags a user's peer runs with); resolves once it is ready. */
  async start (i: number, args: string[] = [], nodeArgs: string[] = []): Promise<void> {
    const p = Proc.weft(['node', 'start', ...args], {
      label: `vp${i}`,
      env: {
        ...WEFT_NODE_ENV,
        CORE_PEER_ID: `vp${i}`,
        CORE_PEER_FILESYSTEMPATH: this.dataDir(i),
        CORE_PEER_ADDRESS: this.grpc(i),
        CORE_PEER_LISTENADDRESS: this.grpc(i),
        CORE_REST_ADDRESS: `127.0.0.1:${this.port(i, 'rest')}`,
        CORE_PEER_VALIDATOR_EVENTS_ADDRESS: `127.0.0.1:${this.port(i, 'events')}`,
        CORE_PEER_LIBP2P_ADDRESS: `127.0.0.1:${this.port(i, 'libp2p')}`,
        CORE_PEER_PROFILE_LISTENADDRESS: `127.0.0.1:${this.port(i, 'metrics')}`,
        CORE_WEB_ENABLED: 'false',
        CORE_LOGGING_NODE: process.env.WEFT_IT_LOG ?? 'info',
        ...this.envOf(i)
      }
    }, [...WEFT_NODE_FLAGS, ...nodeArgs])
    this.earlier[i] = this.output(i)
    this.procs[i] = p
    // Looked for every 10 ms: benchmarks time from here.
    await p.waitForOutput(`vp${i} to start`, READY, { timeoutMs: 30_000, everyMs: 10 })
  }

  /** Sends vpI `signal` (kill -9 by default) and waits for it to end; its dev-mode chaincodes go with it. */
  async kill (i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit | undefined> {
    const p = this.procs[i]
    if (p !== undefined) this.stopping.add(p)
    const exit = await p?.signal(signal)
    this.stopChaincodes(i)
    return exit
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
    await this.waitFor(`${name} to register at vp${i}`, () => shim.state !== 'created', 10_000)
  }

  async rpc (i: number, method: string, params: unknown, wait?: string): Promise<{ result?: { message: string }, error?: { data?: string } }> {
    const res = await fetch(`${this.rest(i)}/chaincode`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1, ...(wait === undefined ? {} : { wait }) }) })
    return await res.json() as { result?: { message: string } }
  }

  async chain (i: number): Promise<ChainInfo> { return await (await fetch(`${this.rest(i)}/chain`)).json() as ChainInfo }

  /**
   * The tests' waitFor, probing every 200 ms for a minute by default. A timeout shows each peer's
   * output; a peer that ends meanwhile, not stopped by this harness, fails the wait at once.
   */
  async waitFor<T> (what: string, probe: () => T | Promise<T>, options: WaitOptions | number = {}): Promise<Exclude<T, undefined | null | false>> {
    const o = typeof options === 'number' ? { timeoutMs: options } : options
    const context = (): string => Array.from({ length: this.n }, (_, i) => `--- vp${i}\n${this.output(i).slice(-3000)}`).join('\n')
    const live = this.procs.filter((p): p is Proc => p?.alive === true && !this.stopping.has(p))
    return await unlessEnded(live, what, waitFor(what, probe, { timeoutMs: 60_000, everyMs: 200, context, ...o }), p => this.stopping.has(p))
  }

  /** Stops every peer (SIGTERM, then SIGKILL) and removes the data directories. */
  async stop (): Promise<void> {
    await Promise.all(this.procs.map(async (p, i) => {
      if (p !== undefined) { this.stopping.add(p); await p.stop() }
      this.stopChaincodes(i)
    }))
    await rm(this.dir, { recursive: true, force: true })
  }

  private stopChaincodes (i: number): void {
    for (const stop of this.chaincodes.get(i) ?? []) stop()
    this.chaincodes.delete(i)
  }
}
