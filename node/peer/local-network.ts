// `weft network up`: N validators on 127.0.0.1, as Fabric's docker-compose files start a network:
// each one a `weft node start` child with its own ports, data directory and log under one
// directory, joined by a network file (peer.validator.network) that names them vp0… and binds
// each name to its libp2p key. The keys stay in the data directories, so another `up` on the
// same directory resumes the same chain.
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { stringify } from 'yaml'
import { errorMessage } from '../../src/util/errors.ts'
import { sleep, systemScheduler, withTimeout } from '../../src/util/scheduler.ts'
import { checkPortsFree, freePorts } from '../net/free-ports.ts'
import { WEFT_NODE_ENV, WEFT_NODE_FLAGS } from './memory-limits.ts'
import { loadOrCreateIdentity } from './identity.ts'

const kinds = ['rest', 'grpc', 'events', 'libp2p', 'metrics', 'web'] as const
export type PortKind = typeof kinds[number]
export type Consensus = 'noops' | 'pbft'

/** Two levels up, from node/peer/ as from the CLI's build in dist/cli-*: the `weft` each peer runs. */
const weftBin = fileURLToPath(new URL('../../bin/weft.mjs', import.meta.url))

export interface LocalPeer {
  name: string
  dataDir: string
  ports: Record<PortKind, number>
  peerId: string
}

export interface NetworkLayout {
  dir: string
  consensus: Consensus
  peers: LocalPeer[]
  /** peer.validator.network of every peer. */
  networkFile: string
  security?: PeerSecurity
}

/** security.* and peer.pki.* of the peers of a network with membership services. */
export interface PeerSecurity {
  /** host:port of the CA's ECA, TCA and TLSCA. */
  caAddress: string
  level: number
  hashAlgorithm: string
  /** vpI's security.enrollID and enrollSecret. */
  enrollments: Array<{ id: string, secret: string }>
}

export interface LayoutOptions {
  n: number
  consensus: Consensus
  dir: string
  /** vpI's ports are basePort + 10·I + 0…5 (REST, gRPC, events, libp2p, metrics, web); default: ports the OS says are free. */
  basePort?: number
  security?: PeerSecurity
}

/** Ports, each peer's identity (created once, kept in its data directory) and the network file. */
export async function layOutNetwork (opts: LayoutOptions): Promise<NetworkLayout> {
  const dir = resolve(opts.dir)
  let ports: number[]
  if (opts.basePort === undefined) {
    ports = await freePorts(opts.n * kinds.length)
  } else {
    const base = opts.basePort
    ports = Array.from({ length: opts.n * kinds.length }, (_, k) => base + 10 * Math.floor(k / kinds.length) + (k % kinds.length))
    if (base < 1 || ports[ports.length - 1] > 65535) throw new Error(`--base-port ${base}: ${opts.n} peers need ports ${base} to ${ports[ports.length - 1]}`)
    await checkPortsFree(ports)
  }
  const peers = await Promise.all(Array.from({ length: opts.n }, async (_, i): Promise<LocalPeer> => {
    const dataDir = join(dir, `vp${i}`)
    const key = await loadOrCreateIdentity(join(dataDir, 'identity.key'))
    const own = Object.fromEntries(kinds.map((k, j) => [k, ports[i * kinds.length + j]])) as Record<PortKind, number>
    return { name: `vp${i}`, dataDir, ports: own, peerId: peerIdFromPrivateKey(key).toString() }
  }))
  const networkFile = join(dir, 'network.yaml')
  const validators = peers.map(p => ({ name: p.name, peerId: p.peerId, address: `/ip4/127.0.0.1/tcp/${p.ports.libp2p}/ws/p2p/${p.peerId}` }))
  await writeFile(networkFile, `# Written by weft network up: the validators of ${dir}.\n${stringify({ validators })}`)
  return { dir, consensus: opts.consensus, peers, networkFile, security: opts.security }
}

/** The CORE_* variables that make `weft node start` the layout's peer `p` (they override any ./core.yaml). */
function peerEnv (net: NetworkLayout, p: LocalPeer, web: boolean): Record<string, string> {
  const at = (k: PortKind): string => `127.0.0.1:${p.ports[k]}`
  const n = net.peers.length
  return {
    CORE_PEER_ID: p.name,
    CORE_PEER_FILESYSTEMPATH: p.dataDir,
    CORE_PEER_ADDRESS: at('grpc'),
    CORE_PEER_LISTENADDRESS: at('grpc'),
    CORE_PEER_VALIDATOR_ENABLED: 'true',
    CORE_PEER_VALIDATOR_CONSENSUS_PLUGIN: net.consensus,
    CORE_PEER_VALIDATOR_NETWORK: net.networkFile,
    CORE_PEER_VALIDATOR_EVENTS_ADDRESS: at('events'),
    // The network file lists every validator's address: no root node.
    CORE_PEER_DISCOVERY_ROOTNODE: '',
    CORE_PEER_LIBP2P_ADDRESS: at('libp2p'),
    CORE_PEER_PROFILE_ENABLED: 'true',
    CORE_PEER_PROFILE_LISTENADDRESS: at('metrics'),
    CORE_REST_ENABLED: 'true',
    CORE_REST_ADDRESS: at('rest'),
    CORE_WEB_ENABLED: String(web),
    CORE_WEB_ADDRESS: at('web'),
    CORE_PBFT_GENERAL_N: String(n),
    CORE_PBFT_GENERAL_F: String(Math.floor((n - 1) / 3)),
    ...(net.security === undefined ? {} : securityEnv(net.security, net.peers.indexOf(p)))
  }
}

function securityEnv (sec: PeerSecurity, i: number): Record<string, string> {
  return {
    CORE_SECURITY_ENABLED: 'true',
    CORE_SECURITY_ENROLLID: sec.enrollments[i].id,
    CORE_SECURITY_ENROLLSECRET: sec.enrollments[i].secret,
    CORE_SECURITY_LEVEL: String(sec.level),
    CORE_SECURITY_HASHALGORITHM: sec.hashAlgorithm,
    CORE_PEER_PKI_ECA_PADDR: sec.caAddress,
    CORE_PEER_PKI_TCA_PADDR: sec.caAddress,
    CORE_PEER_PKI_TLSCA_PADDR: sec.caAddress,
    CORE_PEER_PKI_TLS_ENABLED: 'false'
  }
}

export interface RunningNetwork {
  /**
   * Resolves once every peer has started and lists all the others among its peers; rejects,
   * having stopped them all, when one ends first or after the timeout.
   */
  ready: Promise<void>
  /** Resolves once every peer's process has ended. */
  stopped: Promise<void>
  /** SIGTERM to every peer still running, SIGKILL to those not gone after `graceMs`; resolves when all have ended. */
  stop (graceMs?: number): Promise<void>
}

export interface StartOptions {
  web: boolean
  /** For the peers to start and, all of them, to list one another. */
  timeoutMs: number
  /** A peer's process ended while the network was not being stopped. */
  onUnexpectedExit?: (peer: LocalPeer, how: string) => void
}

/** Starts every peer of the layout, each one's output appended to <data dir>/peer.log. */
export function startNetwork (net: NetworkLayout, opts: StartOptions): RunningNetwork {
  let stopping = false
  const children = net.peers.map(p => startPeer(net, p, opts.web))
  const stopped = Promise.all(children.map(async c => await c.exited)).then(() => {})
  for (const c of children) {
    void c.exited.then(how => { if (!stopping) opts.onUnexpectedExit?.(c.peer, how) })
  }
  const stop = async (graceMs = 10_000): Promise<void> => {
    stopping = true
    await Promise.all(children.map(async c => { await stopChild(c, graceMs) }))
  }
  const ready = async (): Promise<void> => {
    const polling = new AbortController()
    // A peer lists the others once it has started and shaken hands with them.
    const names = net.peers.map(p => p.name)
    const up = async (): Promise<void> => {
      await Promise.all(children.map(async c => { await Promise.race([allListed(c.peer, names, polling.signal), c.ended]) }))
    }
    try {
      await withTimeout(systemScheduler, up(), opts.timeoutMs, `the peers did not all start and connect within ${opts.timeoutMs / 1000} s (logs: ${net.dir}/vp*/peer.log)`)
    } catch (err) {
      await stop()
      throw err
    } finally {
      polling.abort()
    }
  }
  return { ready: ready(), stopped, stop }
}

/** A `weft` child process (a peer, the CA) and how it ended. */
export interface Child {
  child: ChildProcess
  alive (): boolean
  /** How it ended. */
  exited: Promise<string>
  /** Rejects, naming the process and its log, when it ends: for waits it must not end during. */
  ended: Promise<never>
}

interface PeerChild extends Child {
  peer: LocalPeer
}

/** Runs `weft <args>` with its output appended to `logFile` (not a pipe through this process: it outlives a `network up` killed with -9). */
export function startWeft (args: string[], env: Record<string, string>, name: string, logFile: string): Child {
  const log = openSync(logFile, 'a')
  const child = spawn(process.execPath, [...WEFT_NODE_FLAGS, weftBin, ...args], { env: { ...WEFT_NODE_ENV, ...process.env, ...env }, stdio: ['ignore', log, log] })
  closeSync(log)
  const exited = new Promise<string>(resolve => {
    child.once('error', err => { resolve(`could not start: ${errorMessage(err)}`) })
    child.once('exit', (code, signal) => { resolve(signal !== null ? `signal ${signal}` : `exit code ${code}`) })
  })
  const ended = exited.then(how => { throw new Error(`${name} ended (${how}); see ${logFile}`) })
  ended.catch(() => {})
  return { child, alive: () => child.exitCode === null && child.signalCode === null, exited, ended }
}

/** SIGTERM, and SIGKILL when it has not ended `graceMs` later; resolves once it has. */
export async function stopChild (c: Child, graceMs: number): Promise<void> {
  if (!c.alive()) return
  c.child.kill('SIGTERM')
  const timer = systemScheduler.schedule(graceMs, () => { if (c.alive()) c.child.kill('SIGKILL') })
  await c.exited
  timer.cancel()
}

function startPeer (net: NetworkLayout, peer: LocalPeer, web: boolean): PeerChild {
  return { peer, ...startWeft(['node', 'start'], peerEnv(net, peer, web), peer.name, join(peer.dataDir, 'peer.log')) }
}

/** Polls the peer's REST GET /network/peers until it lists every one of `names` (itself included). */
async function allListed (p: LocalPeer, names: string[], signal: AbortSignal): Promise<void> {
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${p.ports.rest}/network/peers`, { signal })
      const { peers } = await res.json() as { peers?: Array<{ ID?: { name?: string } }> }
      const listed = new Set((peers ?? []).map(q => q.ID?.name))
      if (names.every(n => listed.has(n))) return
    } catch {
      // Not answering yet (or no longer waited for: the sleep ends the loop).
    }
    await sleep(systemScheduler, 200, signal)
  }
}
