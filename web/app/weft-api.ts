// window.weft: the tab's peer for scripts and tests (documented in README.md, "Browser peer").
// Plain data in and out (strings, numbers, arrays, objects), so page.evaluate() can use it.
import type { BrowserPeer, ConnectionInfo } from './browser-peer.ts'
import type { BlockSummary } from './chain.ts'
import type { Committed, DeployRequest, SubmitOptions, WeftEvent } from './facade.ts'
import type { Notices } from './notices.ts'
import type { ResolvedBootstrap, BootstrapInfo } from './bootstrap.ts'
import type { VisibilityScheduler } from './visibility.ts'
import type { BenchResult, DemoStartOptions, DemoStatus } from '../demo/controller.ts'

export interface WeftDemoApi {
  start (opts?: DemoStartOptions): Promise<void>
  stop (): Promise<void>
  status (): DemoStatus
  /** Submits `count` put transactions; resolves with their txids once accepted (not committed). */
  submit (count: number, via?: number): Promise<string[]>
  /** Resolves once every live honest replica has committed every txid. */
  waitCommitted (txids: string[], timeoutMs?: number): Promise<void>
  crash (replica: number): Promise<void>
  restart (replica: number): Promise<void>
  partition (replica: number): void
  heal (replica: number): void
  byzantine (replica: number, on: boolean): void
  /** Load generator: tx/s (0 = flat out), or null to stop. */
  load (rate: number | null): void
  bench (seconds?: number): Promise<BenchResult>
}

export interface WeftApi {
  readonly version: string
  /** Resolves once the peer runs (rejects if it could not start; the demo still works). */
  readonly ready: Promise<void>
  readonly error?: string
  readonly peerId: string
  /** This peer's peer.id (web-… or the vpN the network config gives it). */
  readonly name: string
  readonly role: 'validator' | 'non-validator' | 'offline'
  /** Browser peer slot (one per tab of this origin; see README). */
  readonly slot: number
  readonly height: number
  /** Hex of the newest block's hash. */
  readonly currentBlockHash: string
  /** Hex of the current state hash ('' for an empty state). */
  readonly stateHash: string
  readonly connections: ConnectionInfo[]
  /** This tab's libp2p addresses (the /p2p-circuit/webrtc one is what other tabs dial). */
  readonly addresses: string[]
  readonly network: { source: string, bootstrap?: BootstrapInfo, error?: string }
  /** Whether the tab is hidden, the factor its timeouts are stretched by, and whether its keep-awake data channel is open. */
  readonly visibility: { hidden: boolean, timerScale: number, keepAwake: boolean }
  readonly notices: Array<{ level: string, text: string }>
  /** Resolves once every block and state write this peer acknowledged is in IndexedDB (a non-validator writes behind). */
  flush (): Promise<void>
  /** Chat messages received and sent, by Message.Type name (e.g. received.SYNC_BLOCKS). */
  stats (): { received: Record<string, number>, sent: Record<string, number> }
  deploy (req: DeployRequest, opts?: SubmitOptions): Promise<Committed & { name: string }>
  invoke (chaincode: string, args: string[], opts?: SubmitOptions): Promise<Committed>
  query (chaincode: string, args: string[], opts?: { user?: string }): Promise<string>
  /** With security: enrolls `user` through the CA; its keys stay in this tab (IndexedDB). Rejects with the CA's reason. */
  login (user: string, secret: string): Promise<void>
  /** Forgets a user's keys in this tab. */
  logout (user: string): Promise<void>
  /** The users logged in in this tab. */
  users (): Promise<string[]>
  /** The newest `count` blocks, newest first. */
  blocks (count?: number): Promise<BlockSummary[]>
  onBlock (listener: (b: BlockSummary) => void): () => void
  onEvent (listener: (e: WeftEvent) => void): () => void
  /** The in-tab demo network (loaded on first use). */
  demo (): Promise<WeftDemoApi>
}

declare global {
  interface Window { weft: WeftApi }
}

export interface AppState {
  peer?: BrowserPeer
  error?: string
  slot: number
  bootstrap: ResolvedBootstrap
  scheduler: VisibilityScheduler
  /** The keep-awake WebRTC data channel is open. */
  keepAwake: boolean
  notices: Notices
  demo: () => Promise<WeftDemoApi>
}

const VERSION = '0.1.0'

export function createWeftApi (state: AppState, ready: Promise<void>): WeftApi {
  const peer = (): BrowserPeer => {
    if (state.peer === undefined) throw new Error(state.error ?? 'the peer has not started yet (await window.weft.ready)')
    return state.peer
  }
  return {
    version: VERSION,
    ready,
    get error () { return state.error },
    get peerId () { return state.peer?.peerId ?? '' },
    get name () { return state.peer?.name ?? '' },
    get role () { return state.peer?.role ?? 'offline' },
    get slot () { return state.slot },
    get height () { return state.peer?.head.height ?? 0 },
    get currentBlockHash () { return state.peer?.head.currentBlockHash ?? '' },
    get stateHash () { return state.peer?.head.stateHash ?? '' },
    get connections () { return state.peer?.connections() ?? [] },
    get addresses () { return state.peer?.addresses() ?? [] },
    get network () { return { source: state.bootstrap.source, bootstrap: state.bootstrap.info, error: state.bootstrap.error } },
    get visibility () { return { hidden: state.scheduler.hidden, timerScale: state.scheduler.scale, keepAwake: state.keepAwake } },
    get notices () { return state.notices.all().map(n => ({ level: n.level, text: n.text })) },
    async flush () { await peer().flushStorage() },
    stats () {
      const m = state.peer?.meter
      return { received: { ...m?.received }, sent: { ...m?.sent } }
    },
    deploy: (req, opts) => peer().facade.deploy(req, opts),
    invoke: (cc, args, opts) => peer().facade.invoke(cc, args, opts),
    query: (cc, args, opts) => peer().facade.query(cc, args, opts),
    login: (user, secret) => peer().facade.login(user, secret),
    logout: user => peer().facade.logout(user),
    users: () => peer().facade.users(),
    blocks: (count = 20) => peer().facade.latestBlocks(count),
    onBlock: listener => peer().facade.onBlock(listener),
    onEvent: listener => peer().facade.onEvent(listener),
    demo: () => state.demo()
  }
}
