// What the page (UI, window.weft, the demo network) does with a PeerNode: deploy, invoke and
// query with text arguments, wait for a transaction's block, and a feed of blocks and events.
import { create } from '@bufbuild/protobuf'
import { fromUtf8, utf8 } from '../../src/crypto/bytes.ts'
import { TransactionFailedError } from '../../src/events/tx-waiter.ts'
import { EventType, InterestSchema, type Event } from '../../src/protos/events_pb.ts'
import { ChaincodeInvocationSpecSchema, ChaincodeSpecSchema, ChaincodeSpec_Type, ConfidentialityLevel } from '../../src/protos/chaincode_pb.ts'
import type { PeerNode } from '../../src/peer-node.ts'
import { summarizeBlock, summarizeTx, type BlockSummary, type EventSummary } from './chain.ts'
import { exampleSource, type ChaincodeSources } from './sources.ts'
import { errorMessage } from '../../src/util/errors.ts'
import { LruMap } from '../../src/util/lru.ts'

export type WeftEvent =
  | { kind: 'BLOCK', time: number, block: BlockSummary }
  | { kind: 'CHAINCODE', time: number, block: number, event: EventSummary }
  | { kind: 'REJECTION', time: number, txid: string, chaincode: string, error: string }

export interface DeployRequest {
  /** One of the bundled examples (example02, map, events)… */
  example?: string
  /** …or the source of a self-contained ES module exporting init, invoke and query. */
  source?: string
  /** Constructor arguments, function first, e.g. ['init', 'a', '100', 'b', '200']. */
  args: string[]
}

export interface SubmitOptions {
  /** Wait for the transaction's block (default true). */
  wait?: boolean
  timeoutMs?: number
  /** With security: the logged-in user whose TCert signs the transaction (its secureContext). */
  user?: string
}

export interface Committed { txid: string, block?: number }

export interface Rejection { txid: string, chaincode: string, error: string, time: number }

export { TransactionFailedError }

/** Resolved with the block number, or undefined when the block was committed by another peer only. */
interface Waiter { resolve: (block: number | undefined) => void, reject: (err: Error) => void, suspectAfter?: number }

const RECENT = 20_000

export class PeerFacade {
  private readonly blockListeners = new Set<(b: BlockSummary) => void>()
  private readonly eventListeners = new Set<(e: WeftEvent) => void>()
  private readonly waiters = new Map<string, Waiter>()
  /** txid → block number, for the newest transactions (a wait that starts late still finds them). */
  private readonly recent = new Map<string, number>()
  private readonly unsubscribe: Array<() => void> = []
  /** The last REJECTION events by txid, for the explorer (a rejected transaction is in no block). */
  readonly rejected = new LruMap<string, Rejection>(10_000)

  constructor (readonly node: PeerNode, readonly sources: ChaincodeSources, private readonly userNames?: () => Promise<string[]>) {
    this.unsubscribe.push(node.onBlock(({ number, block, hash }) => { this.handleBlock(summarizeBlock(number, block, hash)) }))
    // REJECTION comes from the peer that executed the transaction: this one when it validates.
    this.unsubscribe.push(node.subscribeEvents([create(InterestSchema, { eventType: EventType.REJECTION })], ev => { this.rejection(ev) }, 'page'))
  }

  /** A REJECTION event, from this peer's hub or from the validator that executed the transaction. */
  rejection (ev: Event): void {
    if (ev.Event.case !== 'rejection') return
    const tx = ev.Event.value.tx
    const txid = tx?.txid ?? ''
    const error = ev.Event.value.errorMsg
    const rejection = { txid, chaincode: tx === undefined ? '' : summarizeTx(tx).chaincode, error, time: Date.now() }
    this.rejected.set(txid, rejection)
    this.emit({ kind: 'REJECTION', ...rejection })
    this.waiters.get(txid)?.reject(new TransactionFailedError(txid, `transaction ${txid} failed: ${error}`, true))
  }

  /** Transactions the Node peer committed (its BLOCK events) while this tab's chain does not follow it. */
  committedElsewhere (txids: string[]): void {
    for (const txid of txids) this.waiters.get(txid)?.resolve(undefined)
  }

  close (): void {
    for (const u of this.unsubscribe.splice(0)) u()
    for (const [txid, w] of this.waiters) w.reject(new Error(`peer stopped before transaction ${txid} committed`))
    this.waiters.clear()
  }

  /** Calls `listener` for every block this peer commits or receives; returns the unsubscribe function. */
  onBlock (listener: (b: BlockSummary) => void): () => void {
    this.blockListeners.add(listener)
    return () => this.blockListeners.delete(listener)
  }

  private handleBlock (b: BlockSummary): void {
    for (const t of b.txs) {
      this.recent.set(t.txid, b.number)
      this.waiters.get(t.txid)?.resolve(b.number)
    }
    while (this.recent.size > RECENT) this.recent.delete(this.recent.keys().next().value!)
    // A batch with failed transactions: a waiter still missing soon after is most likely one of them.
    if (b.failed > 0) for (const w of this.waiters.values()) w.suspectAfter ??= Date.now() + 3000
    for (const l of this.blockListeners) {
      try { l(b) } catch (err) { console.warn(`block listener failed: ${errorMessage(err)}`) }
    }
    const time = Date.now()
    this.emit({ kind: 'BLOCK', time, block: b })
    for (const event of b.events) this.emit({ kind: 'CHAINCODE', time, block: b.number, event })
  }

  onEvent (listener: (e: WeftEvent) => void): () => void {
    this.eventListeners.add(listener)
    return () => this.eventListeners.delete(listener)
  }

  private emit (e: WeftEvent): void {
    for (const l of this.eventListeners) {
      try { l(e) } catch (err) { console.warn(`event listener failed: ${errorMessage(err)}`) }
    }
  }

  /** Whether users log in here (security enabled). */
  get hasUsers (): boolean { return this.node.users !== undefined }

  /** Enrolls `user` with the CA (its keys stay in this tab); throws the CA's reason, or why users cannot log in here. */
  async login (user: string, secret: string): Promise<void> {
    if (this.node.users === undefined) throw new Error('security is not enabled on this network: there are no users to log in')
    await this.node.users.login(user, secret)
  }

  /** Forgets `user`'s keys in this tab. */
  async logout (user: string): Promise<void> {
    await this.node.users?.remove(user)
  }

  /** The users logged in in this tab. */
  async users (): Promise<string[]> {
    return await this.userNames?.() ?? []
  }

  /** Deploys a chaincode; resolves with its name (= the deploy txid) and, unless told not to wait, its block. */
  async deploy (req: DeployRequest, opts: SubmitOptions = {}): Promise<Committed & { name: string }> {
    if (req.source === undefined && req.example === undefined) throw new Error('deploy needs an example name or a source')
    const source = req.source ?? await exampleSource(req.example!)
    const path = this.sources.add(source, req.example ?? 'pasted')
    const spec = create(ChaincodeSpecSchema, { type: ChaincodeSpec_Type.NODE, chaincodeID: { path }, ctorMsg: { args: req.args.map(a => utf8(a)) }, secureContext: opts.user, confidentialityLevel: this.level(opts.user) })
    const cds = await this.node.build(spec)
    const name = cds.chaincodeSpec?.chaincodeID?.name ?? ''
    // As Fabric, the deploy transaction's id is the chaincode name.
    const waiting = opts.wait === false ? undefined : this.waitFor(name, opts.timeoutMs)
    try {
      await this.node.deploy(spec)
    } catch (err) {
      this.cancelWait(name)
      throw err
    }
    return { name, txid: name, block: await waiting }
  }

  async invoke (name: string, args: string[], opts: SubmitOptions = {}): Promise<Committed> {
    const resp = await this.node.invoke(invocation(name, args, opts.user, this.level(opts.user)))
    const txid = fromUtf8(resp.msg)
    if (opts.wait === false) return { txid }
    return { txid, block: await this.waitFor(txid, opts.timeoutMs) }
  }

  async query (name: string, args: string[], opts: { user?: string } = {}): Promise<string> {
    const resp = await this.node.query(invocation(name, args, opts.user, this.level(opts.user)))
    return fromUtf8(resp.msg)
  }

  /** Resolves with the number of the block holding `txid` (undefined: committed by the Node peer, not in this tab's chain). */
  waitFor (txid: string, timeoutMs = 30_000): Promise<number | undefined> {
    const known = this.recent.get(txid)
    if (known !== undefined) return Promise.resolve(known)
    return new Promise<number | undefined>((resolve, reject) => {
      const started = Date.now()
      const done = (): void => { clearInterval(tick); this.waiters.delete(txid) }
      const w: Waiter = {
        resolve: n => { done(); resolve(n) },
        reject: err => { done(); reject(err) }
      }
      const tick = setInterval(() => {
        if (w.suspectAfter !== undefined && Date.now() > w.suspectAfter) {
          w.reject(new TransactionFailedError(txid, `transaction ${txid} is not in the chain: the validator rejected it (a chaincode error; a block after it holds a failed transaction)`, true))
        } else if (Date.now() - started > timeoutMs) {
          w.reject(new TransactionFailedError(txid, `transaction ${txid} was accepted but not committed within ${Math.round(timeoutMs / 1000)} s`, false))
        }
      }, 250)
      this.waiters.set(txid, w)
      // It may have been committed before we started listening.
      this.node.getTransactionByID(txid).then(async tx => {
        if (tx === undefined || !this.waiters.has(txid)) return
        const n = await this.blockOf(txid)
        if (n !== undefined) w.resolve(n)
      }).catch(() => {})
    })
  }

  private cancelWait (txid: string): void { this.waiters.get(txid)?.reject(new Error('cancelled')) }

  /** The block holding a committed transaction, searched from the head down (recent first). */
  private async blockOf (txid: string): Promise<number | undefined> {
    const height = this.node.height
    for (let n = height - 1; n >= 0 && n >= height - 1000; n--) {
      const b = await this.node.getBlockByNumber(BigInt(n))
      if (b?.transactions.some(t => t.txid === txid) === true) return n
    }
    return undefined
  }

  /** The newest `count` blocks, newest first. */
  /** security.privacy: a user's transactions go CONFIDENTIAL, as Fabric's REST and CLI send them. */
  private level (user: string | undefined): ConfidentialityLevel {
    return user !== undefined && this.node.config.security.privacy ? ConfidentialityLevel.CONFIDENTIAL : ConfidentialityLevel.PUBLIC
  }

  async latestBlocks (count: number): Promise<BlockSummary[]> {
    const out: BlockSummary[] = []
    for (let n = this.node.height - 1; n >= 0 && out.length < count; n--) {
      const b = await this.node.getBlockByNumber(BigInt(n))
      if (b !== undefined) out.push(summarizeBlock(n, b))
    }
    return out
  }
}

export function invocation (name: string, args: string[], user?: string, confidentialityLevel = ConfidentialityLevel.PUBLIC): ReturnType<typeof create<typeof ChaincodeInvocationSpecSchema>> {
  return create(ChaincodeInvocationSpecSchema, {
    chaincodeSpec: { type: ChaincodeSpec_Type.NODE, chaincodeID: { name }, ctorMsg: { args: args.map(a => utf8(a)) }, secureContext: user, confidentialityLevel }
  })
}
