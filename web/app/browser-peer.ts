// The peer in this tab: the same PeerNode as a Node peer (src/peer-node.ts), on a browser
// platform: IndexedDB ledger, libp2p over WebSockets / WebRTC / circuit relay, chaincode in Web
// Workers, identity in idb-keyval, timers that stretch while the tab is hidden.
import { create } from '@bufbuild/protobuf'
import type { Connection, PrivateKey } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { loadConfig, withOverrides, type CoreConfig } from '../../src/config/index.ts'
import { toHex } from '../../src/crypto/bytes.ts'
import { errorMessage } from '../../src/util/errors.ts'
import type { EventStream } from '../../src/events/session.ts'
import { PeerNode } from '../../src/peer-node.ts'
import { EventSchema, EventType, InterestSchema } from '../../src/protos/events_pb.ts'
import { keySigner } from '../../src/peer/security.ts'
import type { KVStore } from '../../src/storage/kv.ts'
import { CHAT_PROTOCOL, libp2pChat } from '../../src/transport/libp2p-chat.ts'
import { libp2pCaRpc } from '../../src/transport/libp2p-ca.ts'
import { dialLibp2pEvents } from '../../src/transport/libp2p-events.ts'
import type { PeerTransport } from '../../src/transport/peer-transport.ts'
import { systemRandom } from '../../src/util/scheduler.ts'
import { webWorkerRuntime } from '../chaincode/worker-runtime.ts'
import { createBrowserLibp2p, type BrowserLibp2p } from '../libp2p/create-node.ts'
import { openIndexedDB } from '../storage.ts'
import { preferredMultiaddrs, type BootstrapInfo } from './bootstrap.ts'
import { PeerFacade } from './facade.ts'
import { ChatMeter, type FsmState } from './meter.ts'
import { isQuotaError, QUOTA_TEXT, watchStore, type Notices } from './notices.ts'
import { ChaincodeSources } from './sources.ts'
import { tabUserKeys } from './tab-users.ts'
import type { VisibilityScheduler } from './visibility.ts'
import { WriteBehindStore } from './write-behind.ts'

export type TransportKind = 'ws' | 'webrtc' | 'relayed' | 'tcp' | 'memory' | 'other'

export interface LinkInfo {
  remoteAddr: string
  transport: TransportKind
  direction: 'inbound' | 'outbound'
  /** A relayed connection carries data under the relay's limits. */
  limited: boolean
  status: string
  streams: string[]
}

export interface ConnectionInfo {
  /** The remote's peer.id (vp0, web-…), from its HELLO. */
  name: string
  peerId: string
  address: string
  role: 'validator' | 'non-validator' | 'unknown'
  /** The libp2p connection that carries the Chat stream. */
  transport: TransportKind
  /** The handler FSM of the Chat stream: created until the remote's DISC_HELLO, then established. */
  state: FsmState
  direction: 'inbound' | 'outbound'
  /** Milliseconds since the last message from this peer. */
  lastHeardMs: number
  received: number
  sent: number
  /** Every libp2p connection to this peer (the relayed one often stays beside a direct WebRTC one). */
  links: LinkInfo[]
}

export interface Head { height: number, currentBlockHash: string, stateHash: string }

/** What carries a libp2p connection. A WebRTC connection signalled through a relay still counts as WebRTC: its data flows directly. */
export function transportOf (c: Pick<Connection, 'remoteAddr' | 'limits'>): TransportKind {
  const a = c.remoteAddr.toString()
  if (a.includes('/webrtc')) return 'webrtc'
  if (a.includes('/p2p-circuit') || c.limits !== undefined) return 'relayed'
  if (/\/wss?(\/|$)/.test(a)) return 'ws'
  if (a.includes('/tcp/')) return 'tcp'
  if (a.includes('/memory/')) return 'memory'
  return 'other'
}

export interface BrowserPeerInit {
  key: PrivateKey
  slot: number
  bootstrap?: BootstrapInfo
  scheduler: VisibilityScheduler
  notices: Notices
}

export class BrowserPeer {
  head: Head = { height: 0, currentBlockHash: '', stateHash: '' }
  private readonly headListeners = new Set<(h: Head) => void>()
  private monitor?: ReturnType<typeof setInterval>
  private readonly started = Date.now()

  private constructor (
    readonly peerId: string,
    readonly name: string,
    readonly role: 'validator' | 'non-validator',
    readonly dbName: string,
    readonly libp2p: BrowserLibp2p,
    readonly node: PeerNode,
    readonly facade: PeerFacade,
    readonly meter: ChatMeter,
    readonly sources: ChaincodeSources,
    readonly store: KVStore,
    readonly init: BrowserPeerInit
  ) {}

  static async start (init: BrowserPeerInit): Promise<BrowserPeer> {
    const { bootstrap: boot, notices } = init
    const libp2p = await createBrowserLibp2p({ privateKey: init.key })
    const peerId = libp2p.peerId.toString()
    try {
      const address = boot === undefined ? `/p2p/${peerId}` : await joinRelay(libp2p, boot, notices)
      const listed = boot?.validators?.find(v => v.peerId === peerId)
      const role = listed !== undefined ? 'validator' : 'non-validator'
      const name = listed?.name ?? `web-${peerId.slice(-10)}`
      const ledger = boot?.ledger
      const config = withOverrides(loadConfig(), {
        peer: {
          id: name,
          networkId: boot?.networkId ?? 'offline',
          validator: { enabled: role === 'validator', consensus: { plugin: boot?.consensus === 'pbft' ? 'pbft' : 'noops' } },
          discovery: {
            rootnode: boot === undefined ? '' : preferredMultiaddrs(boot)[0] ?? '',
            // Browser tabs come and go: look for peers (other tabs) more often than Fabric's 5 s.
            period: 2000
          },
          // A tab usually starts far behind: ask for 100 blocks / deltas per sync request, not Fabric's 10 / 20.
          sync: { blocks: { channelSize: 100 }, state: { deltas: { channelSize: 100 } } }
        },
        ledger: ledger === undefined ? undefined : { state: { dataStructure: { name: ledger.stateStructure as CoreConfig['ledger']['state']['dataStructure']['name'], configs: { numBuckets: ledger.numBuckets, maxGroupingAtEachLevel: ledger.maxGroupingAtEachLevel } } } },
        security: { enabled: boot?.securityEnabled === true, ...boot?.security },
        rest: { enabled: false },
        web: { enabled: false }
      })
      // One chain per network and bootstrap peer, per browser peer slot.
      const dbName = boot === undefined ? `weft-offline-${init.slot}` : `weft-${boot.networkId}-${boot.peerId.slice(-8)}-${init.slot}`
      const storageError = (err: Error, quota: boolean): void => {
        if (quota) notices.show('quota', 'error', QUOTA_TEXT)
        else notices.show('storage', 'error', `Storing the chain in IndexedDB failed: ${err.message}`)
      }
      const idb = watchStore(await openIndexedDB(dbName), storageError)
      // A non-validator may acknowledge a write before IndexedDB has it (one IndexedDB
      // transaction per block caps a sync at a few hundred blocks a second); a validator may not.
      const store = role === 'validator' ? idb : new WriteBehindStore(idb, { onError: err => storageError(err, isQuotaError(err)) })
      if (store instanceof WriteBehindStore) {
        const flush = (): void => { store.flush().catch(() => {}) }
        addEventListener('pagehide', flush)
        document.addEventListener('visibilitychange', () => { if (document.hidden) flush() })
      }
      // With security, users log in here: keys in IndexedDB, the CA reached through the Node peer.
      const userKeys = config.security.enabled && boot !== undefined
        ? tabUserKeys(init.slot, config, libp2pCaRpc(libp2p, preferredMultiaddrs(boot)[0] ?? ''), init.scheduler)
        : undefined
      const meter = new ChatMeter()
      const sources = new ChaincodeSources()
      const node = await PeerNode.create(config, {
        store,
        transports: [meter.transport(tieBreak(libp2pChat({ address })({ node: libp2p }), peerId, meter))],
        scheduler: init.scheduler,
        random: systemRandom,
        chaincodeRuntime: webWorkerRuntime(),
        packageChaincode: sources.packageChaincode,
        identity: { signer: config.security.enabled ? keySigner(init.key) : undefined, validators: boot?.validators },
        users: userKeys?.keystore
      })
      node.onStop(reason => {
        if (reason !== undefined) notices.show('fatal', 'error', `Consensus stopped this peer: ${reason.message}. Reload the page to start it again.`)
      })
      const facade = new PeerFacade(node, sources, userKeys?.names)
      const peer = new BrowserPeer(peerId, name, role, dbName, libp2p, node, facade, meter, sources, store, init)
      await node.start()
      // Leaving: stop, which says DISC_DISCONNECT first (best effort), so peers forget this tab's address instead of redialling it.
      addEventListener('pagehide', (e: PageTransitionEvent) => { if (!e.persisted) void node.stop() })
      await peer.refreshHead()
      node.onBlock(() => { void peer.refreshHead() })
      if (boot !== undefined) peer.watchBootstrap(boot)
      // REJECTION events come from the peer that executed the transaction: follow the Node peer's.
      // With security the Node peer refuses this tab's chat (it is no enrolled peer): its BLOCK events tell what committed.
      if (boot !== undefined && role === 'non-validator') void peer.followRejections(preferredMultiaddrs(boot)[0] ?? '', config.security.enabled)
      return peer
    } catch (err) {
      try { await libp2p.stop() } catch { /* already failing */ }
      throw err
    }
  }

  private refreshing?: Promise<void>
  private refreshAgain = false

  /** Re-reads height, head and state hash; blocks arriving meanwhile fold into one more read. */
  private refreshHead (): Promise<void> {
    if (this.refreshing !== undefined) {
      this.refreshAgain = true
      return this.refreshing
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false
        await this.readHead()
        // During a sync blocks come by the thousand: read the head at most ten times a second.
        if (this.refreshAgain) await new Promise(resolve => setTimeout(resolve, 100))
      } while (this.refreshAgain)
    })().finally(() => { this.refreshing = undefined })
    return this.refreshing
  }

  private async readHead (): Promise<void> {
    const head = await this.node.head()
    this.head = { height: head.height, currentBlockHash: toHex(head.currentBlockHash), stateHash: toHex(head.stateHash) }
    for (const l of this.headListeners) l(this.head)
  }

  onHead (l: (h: Head) => void): () => void {
    this.headListeners.add(l)
    return () => this.headListeners.delete(l)
  }

  /** "Peer unreachable" while no Chat with the bootstrap peer is established: judged only from what arrived. */
  private watchBootstrap (boot: BootstrapInfo): void {
    const address = preferredMultiaddrs(boot)[0] ?? ''
    let nextTry = Date.now() + 5000
    let wait = 5000
    const check = (): void => {
      const up = [...this.meter.chats].some(c => c.remote === boot.peerId && c.state === 'established')
      if (up) {
        this.init.notices.clear('unreachable')
        wait = 5000
        return
      }
      // Never reached (or lost): dial again now and then (chatWithPeer does nothing while a dial is on).
      if (Date.now() >= nextTry) {
        nextTry = Date.now() + wait
        wait = Math.min(wait * 2, 60_000)
        void this.node.connect(address)
      }
      if (Date.now() - this.started < 8000) return
      if (boot.securityEnabled) {
        // Expected: a security-enabled peer chats only with enrolled peers, which a tab is not.
        this.init.notices.show('unreachable', 'warn', `No Chat with ${peerLabel(boot)}: with security it takes only peers enrolled with its CA. This tab's chain does not follow the network; logged-in users still deploy, invoke and query through it.`)
        return
      }
      this.init.notices.show('unreachable', 'error', `Peer unreachable: no Chat with ${peerLabel(boot)} at ${address || '?'}. Is it running? The tab keeps retrying.`)
    }
    this.monitor = setInterval(check, 2000)
    this.meter.onChange(check)
  }

  private stopped = false
  private events?: EventStream

  /**
   * Registers for REJECTION events at the Node peer (`/weft/events/0.6.1`, Fabric's Events.Chat
   * rules) and hands them to the page, so an invoke the chaincode refused is reported with the
   * chaincode's own error; with `blocks`, BLOCK events too, so a wait ends when the Node peer
   * commits. Reconnects while the page lives.
   */
  private async followRejections (address: string, blocks: boolean): Promise<void> {
    let wait = 2000
    while (!this.stopped && address !== '') {
      try {
        const stream = this.events = await dialLibp2pEvents(this.libp2p, address)
        const interests = [EventType.REJECTION, ...(blocks ? [EventType.BLOCK] : [])].map(eventType => create(InterestSchema, { eventType }))
        const reg = create(EventSchema, { Event: { case: 'register', value: { events: interests } } })
        await stream.send(reg)
        const ack = await stream.recv()
        if (ack?.Event.case !== 'register') throw new Error('the peer did not acknowledge the registration')
        wait = 2000
        for (let ev = await stream.recv(); ev !== undefined; ev = await stream.recv()) {
          if (ev.Event.case === 'block') this.facade.committedElsewhere(ev.Event.value.transactions.map(t => t.txid))
          else this.facade.rejection(ev)
        }
      } catch (err) {
        if (!this.stopped) console.warn(`weft: REJECTION events from ${address}: ${errorMessage(err)}; retrying in ${wait / 1000} s`)
      }
      await this.events?.close().catch(() => {})
      this.events = undefined
      if (this.stopped) return
      await new Promise(resolve => setTimeout(resolve, wait))
      wait = Math.min(wait * 2, 60_000)
    }
  }

  /** Waits until IndexedDB holds everything written so far. */
  async flushStorage (): Promise<void> {
    if (this.store instanceof WriteBehindStore) await this.store.flush()
  }

  /** The libp2p addresses others reach this tab at. */
  addresses (): string[] { return this.libp2p.getMultiaddrs().map(m => m.toString()) }

  connections (): ConnectionInfo[] {
    const now = Date.now()
    const out: ConnectionInfo[] = []
    for (const rec of this.meter.chats) {
      let links: LinkInfo[] = []
      let transport: TransportKind = 'other'
      try {
        const conns = this.libp2p.getConnections().filter(c => c.remotePeer.toString() === rec.remote)
        links = conns.map(c => ({
          remoteAddr: c.remoteAddr.toString(),
          transport: transportOf(c),
          direction: c.direction,
          limited: c.limits !== undefined,
          status: c.status,
          streams: c.streams.map(s => s.protocol ?? '?')
        }))
        const carrier = conns.find(c => c.streams.some(s => s.protocol === CHAT_PROTOCOL)) ?? conns[0]
        if (carrier !== undefined) transport = transportOf(carrier)
      } catch { /* not a libp2p peer id */ }
      out.push({
        name: rec.name ?? '',
        peerId: rec.remote,
        address: rec.address ?? '',
        role: rec.role ?? 'unknown',
        transport,
        state: rec.state,
        direction: rec.direction,
        lastHeardMs: now - rec.lastHeard,
        received: rec.received,
        sent: rec.sent,
        links
      })
    }
    return out
  }

  async stop (): Promise<void> {
    this.stopped = true
    await this.events?.close().catch(() => {})
    clearInterval(this.monitor)
    this.facade.close()
    await this.node.stop()
    await this.libp2p.stop()
  }
}

/**
 * Two tabs learn of each other from the same DISC_PEERS round and would dial each other at the
 * same moment; two WebRTC negotiations through the relay then trip over each other. The tab with
 * the larger peer id lets the other dial first, and dials only if no chat came meanwhile.
 */
function tieBreak (inner: PeerTransport, self: string, meter: ChatMeter, waitMs = 4000): PeerTransport {
  return {
    name: inner.name,
    get address () { return inner.address },
    canDial: address => inner.canDial(address),
    start: server => inner.start(server),
    stop: () => inner.stop(),
    dialChat: async (address, options) => {
      const remote = /\/p2p-circuit\/webrtc\/p2p\/([^/]+)$/.exec(address)?.[1]
      if (remote !== undefined && self > remote) {
        await new Promise(resolve => setTimeout(resolve, waitMs))
        if ([...meter.chats].some(c => c.remote === remote)) throw new Error(`${remote.slice(-10)} dialled this tab first; its chat is in use`)
      }
      return await inner.dialChat(address, options)
    },
    processTransaction: (address, tx, options) => inner.processTransaction(address, tx, options)
  }
}

function peerLabel (boot: BootstrapInfo): string {
  return boot.name === '' ? 'the network peer' : `the Node peer ${boot.name}`
}

/**
 * Connects to the bootstrap peer and waits (briefly) for a reservation on its relay, so this
 * tab's address is one other tabs can dial: …/p2p/<relay>/p2p-circuit/webrtc/p2p/<this tab>.
 */
async function joinRelay (libp2p: BrowserLibp2p, boot: BootstrapInfo, notices: Notices): Promise<string> {
  const self = libp2p.peerId.toString()
  let reached = false
  for (const ma of preferredMultiaddrs(boot)) {
    try {
      await libp2p.dial(multiaddr(ma), { signal: AbortSignal.timeout(8000) })
      reached = true
      break
    } catch (err) {
      console.warn(`cannot reach ${ma}: ${errorMessage(err)}`)
    }
  }
  if (!reached) {
    notices.show('unreachable', 'error', `Peer unreachable: cannot connect to ${peerLabel(boot)} at ${preferredMultiaddrs(boot).join(' or ')}. Is it running, and is its WebSockets listener (peer.libp2p.address) reachable from this browser? The tab keeps retrying.`)
    return `/p2p/${self}`
  }
  const pick = (): string | undefined => {
    const all = libp2p.getMultiaddrs().map(m => m.toString())
    return all.find(a => a.includes('/p2p-circuit/webrtc')) ?? all.find(a => a.includes('/p2p-circuit'))
  }
  const deadline = Date.now() + 5000
  while (pick() === undefined && Date.now() < deadline) {
    await new Promise<void>(resolve => {
      const done = (): void => { libp2p.removeEventListener('self:peer:update', done); clearTimeout(t); resolve() }
      const t = setTimeout(done, 250)
      libp2p.addEventListener('self:peer:update', done)
    })
  }
  const address = pick()
  if (address === undefined) {
    notices.show('relay', 'warn', `${peerLabel(boot).replace(/^t/, 'T')} gave this tab no relay reservation: other tabs cannot reach it over WebRTC (its own chain sync is unaffected).`)
    return `/p2p/${self}`
  }
  return address.endsWith(`/p2p/${self}`) ? address : `${address}/p2p/${self}`
}
