import { create, toBinary } from '@bufbuild/protobuf'
import {
  ChaincodeIDSchema, ChaincodeInputSchema, ConfidentialityLevel, type ChaincodeMessage_Type,
  type ChaincodeID, type ChaincodeInput, type ChaincodeMessage
} from '../protos/chaincode_pb.ts'
import { Transaction_Type, type Transaction } from '../protos/fabric_pb.ts'
import type { StateEncryptor } from '../security/confidentiality.ts'
import type { ChaincodeConfidentiality } from './confidential-state.ts'
import { createLogger } from '../util/logger.ts'
import type { TimerHandle } from '../util/scheduler.ts'
import { cacheFieldsOf, putStateRefusal, setCacheFields, type StateWrite } from './cache-fields.ts'
import { isRunningState, nextState, type HandlerState } from './fsm.ts'
import { ccMessage, decodePayload, errorMessage, MsgType, payloadText, shortTxid, typeName } from './messages.ts'
import { serveBusyRequest, serveReadRequest, type RequestHost } from './handler-requests.ts'
import { securityContext } from './security-context.ts'
import type { ChaincodeStream } from './stream.ts'
import type { Scheduler } from '../util/scheduler.ts'
import type { TxContext } from './tx-context.ts'
import { errorMessage as describeError } from '../util/errors.ts'

const log = createLogger('chaincode')

/** What a handler needs from ChaincodeSupport. */
export interface HandlerHost extends RequestHost {
  readonly scheduler: Scheduler
  /** Milliseconds of silence before a KEEPALIVE is sent; 0 = never. */
  readonly keepalive: number
  /** The transaction binding sent to chaincode; without it (security off) none. */
  readonly binding?: (tx: Transaction) => Uint8Array
  /** security.enabled: how confidential transactions' state is encrypted. */
  readonly confidentiality?: ChaincodeConfidentiality
  registerHandler (h: Handler): void
  deregisterHandler (h: Handler): void
  /** The cache session a TRANSACTION sent now belongs to; 0 = none (src/chaincode/cache-fields.ts). */
  readonly stateCacheSession: number
  /** Ends the session: the state may have changed in a way the chaincodes' caches did not see. */
  dropStateCaches (): void
}

export interface HandlerOptions {
  /** The chaincode is Weft's own shim, launched by a runtime of the peer's, with its state cache on. */
  stateCache?: boolean
}

/** Fabric's %s of a ChaincodeID (compact text format), as its errors print it. */
export function chaincodeIDText (id: ChaincodeID): string {
  return (id.path !== '' ? `path:${JSON.stringify(id.path)} ` : '') + (id.name !== '' ? `name:${JSON.stringify(id.name)} ` : '')
}

/**
 * The peer's side of one chaincode's stream (core/chaincode/handler.go): the FSM, the
 * transactions and queries in flight keyed by txid, and the state requests they make.
 */
export class Handler {
  state: HandlerState = 'created'
  chaincodeID?: ChaincodeID
  registered = false
  private readonly txs = new Map<string, TxContext>()
  /** Whether a txid is a transaction (writes allowed, uncommitted reads) or a query. */
  private readonly isTransaction = new Map<string, boolean>()
  /**
   * The request being served for each txid (Fabric serves one at a time per txid). A transaction
   * is reported done only once its request has settled, so no write lands after the executor
   * has moved on to the next transaction.
   */
  private readonly inflight = new Map<string, Promise<void>>()
  /** The decrypted deploy transaction of this chaincode (Fabric's deployTXSecContext), from its INIT or READY. */
  private deployTx?: Transaction
  private keepaliveTimer?: TimerHandle
  private cursorSeq = 0
  private closed = false
  /** Transactions sent with a cache session: their answers carry their writes. */
  private readonly cachedTxs = new Set<string>()
  /**
   * Transactions sent ahead of their turn (sendAhead), with what the chaincode has sent for
   * them so far: held until the executor claims them, so the FSM and the ledger see one
   * transaction at a time, as without.
   */
  private readonly ahead = new Map<string, ChaincodeMessage[]>()
  private readonly stateCache: boolean

  constructor (readonly host: HandlerHost, readonly stream: ChaincodeStream, options: HandlerOptions = {}) {
    this.stateCache = options.stateCache === true
  }

  get name (): string { return this.chaincodeID?.name ?? `(unregistered ${this.stream.remote})` }
  isRunning (): boolean { return isRunningState(this.state) }

  /** Reads the stream until it ends; then deregisters and fails whatever was in flight. Resolves with why it failed, if it did. */
  async run (): Promise<Error | undefined> {
    let failure: Error | undefined
    try {
      this.armKeepalive()
      for (;;) {
        const msg = await this.stream.recv()
        if (msg === undefined) break
        this.armKeepalive()
        // A failed transaction is reported to its client (REJECTION); the log need not shout.
        if (msg.type === MsgType.ERROR) log.debug(`[${shortTxid(msg.txid)}]chaincode ${this.name} sent error: ${payloadText(msg)}`)
        this.handleMessage(msg)
      }
    } catch (err) {
      failure = err as Error
      // After close() the stream fails with our own reason: nothing new to report.
      if (!this.closed) log.error(`chaincode ${this.name}: ending stream: ${failure.message}`)
    }
    await this.close(failure ?? new Error('chaincode closed its stream'), failure === undefined)
    return failure
  }

  /**
   * Ends the stream and fails every transaction in flight with `reason`; `clean` ends the
   * stream without an error (the chaincode hung up itself). Idempotent.
   */
  async close (reason: Error, clean = false): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.keepaliveTimer?.cancel()
    this.ahead.clear()
    this.deregister()
    for (const ctx of [...this.txs.values()]) {
      this.notify(errorMessage(ctx.txid, `chaincode ${this.name} is gone: ${reason.message}`))
      this.deleteTxContext(ctx.txid)
    }
    await this.stream.close(clean ? undefined : reason).catch(() => {})
    await Promise.allSettled([...this.inflight.values()])
  }

  /** Takes one message from the chaincode; throws on a protocol violation (which ends the stream). */
  handleMessage (msg: ChaincodeMessage): void {
    const held = this.ahead.get(msg.txid)
    if (held !== undefined) {
      held.push(msg)
      return
    }
    switch (msg.type) {
      case MsgType.KEEPALIVE: return
      case MsgType.QUERY_COMPLETED:
        this.isTransaction.delete(msg.txid)
        this.notify(this.sealed(msg, MsgType.QUERY_ERROR, 'Failed to encrypt query result'))
        return
      case MsgType.QUERY_ERROR:
        this.isTransaction.delete(msg.txid)
        this.notify(msg)
        return
      case MsgType.INVOKE_QUERY:
        this.serve(msg, async () => await serveBusyRequest(this, msg), reply => this.send(reply))
        return
    }
    const dst = nextState(this.state, msg.type)
    if (dst === undefined) {
      const writes = msg.type === MsgType.PUT_STATE || msg.type === MsgType.DEL_STATE || msg.type === MsgType.INVOKE_CHAINCODE
      if (writes && this.isTransaction.get(msg.txid) !== true) {
        // Fabric also ends the stream here; refusing the request is enough to keep state safe.
        log.error(`[${msg.txid}]Cannot handle ${typeName(msg.type)} in query context`)
        this.send(errorMessage(msg.txid, `[${msg.txid}]Cannot handle ${typeName(msg.type)} in query context`))
        return
      }
      throw new Error(`[${msg.txid}]Chaincode handler validator FSM cannot handle message (${typeName(msg.type)}) with payload size (${msg.payload.length}) while in state: ${this.state}`)
    }
    switch (msg.type) {
      case MsgType.REGISTER: return this.onRegister(msg)
      case MsgType.COMPLETED:
      case MsgType.ERROR:
        return this.onDone(msg, dst)
      case MsgType.GET_STATE:
      case MsgType.RANGE_QUERY_STATE:
      case MsgType.RANGE_QUERY_STATE_NEXT:
      case MsgType.RANGE_QUERY_STATE_CLOSE:
        this.serve(msg, async () => await serveReadRequest(this, msg), reply => this.send(reply))
        return
      case MsgType.PUT_STATE:
      case MsgType.DEL_STATE:
      case MsgType.INVOKE_CHAINCODE:
        this.state = dst
        if (this.isTransaction.get(msg.txid) !== true) {
          this.finishBusy(errorMessage(msg.txid, `Cannot handle ${typeName(msg.type)} in query context`))
          return
        }
        this.serve(msg, async () => await serveBusyRequest(this, msg), reply => this.finishBusy(reply))
        return
      default:
        throw new Error(`[${msg.txid}]chaincode may not send ${typeName(msg.type)}`)
    }
  }

  // --- what ChaincodeSupport drives ---

  /**
   * Deploy (INIT with the constructor's args) or first use after a (re)start (READY).
   * Fabric sends READY when the constructor has no args at all.
   */
  initOrReady (txid: string, initArgs: Uint8Array[] | undefined, tx: Transaction, input: ChaincodeInput, deployTx: Transaction): TxContext {
    const ctx = this.createTxContext(txid, tx)
    this.deployTx = deployTx
    if (initArgs !== undefined) {
      const msg = ccMessage(MsgType.INIT, { txid, payload: toBinary(ChaincodeInputSchema, create(ChaincodeInputSchema, { args: initArgs })), securityContext: securityContext(tx, toBinary(ChaincodeInputSchema, input), this.host.binding) })
      this.fire(MsgType.INIT)
      this.isTransaction.set(txid, true)
      this.send(msg, ctx)
    } else {
      const msg = ccMessage(MsgType.READY, { txid, securityContext: securityContext(tx, toBinary(ChaincodeInputSchema, input), this.host.binding) })
      this.fire(MsgType.READY)
      this.isTransaction.delete(txid)
      ctx.notify(msg)
      this.send(msg)
    }
    return ctx
  }

  /**
   * Sends a TRANSACTION or QUERY, whose payload is the marshaled input (the security context
   * carries those bytes too); the returned context settles with the chaincode's answer.
   */
  sendExecute (msg: ChaincodeMessage, tx: Transaction): TxContext {
    const ctx = this.createTxContext(msg.txid, tx)
    if (msg.type === MsgType.TRANSACTION && nextState(this.state, MsgType.TRANSACTION) === undefined) {
      // Fabric would end the stream here; refusing the one transaction keeps the others alive.
      this.txs.delete(msg.txid)
      throw new Error(`chaincode ${this.name} cannot take a transaction while in state ${this.state}`)
    }
    this.isTransaction.set(msg.txid, msg.type !== MsgType.QUERY)
    msg.securityContext = securityContext(tx, msg.payload, this.host.binding)
    if (msg.type === MsgType.TRANSACTION && this.cachesState()) {
      const session = this.host.stateCacheSession
      setCacheFields(msg, { session, writes: [] })
      if (session !== 0) this.cachedTxs.add(msg.txid)
    }
    if (msg.type === MsgType.TRANSACTION) this.fire(MsgType.TRANSACTION)
    this.send(msg, ctx)
    return ctx
  }

  /**
   * Sends a TRANSACTION before its turn, so the chaincode (Weft's shim, which queues it) starts on
   * it as soon as the one before answers, without waiting for the peer. False when this
   * chaincode cannot take transactions ahead. Only for a run of transactions executed in order
   * in one cache session; each must be claimed in turn (claimAhead), or the stream closed.
   */
  sendAhead (msg: ChaincodeMessage, tx: Transaction): boolean {
    if (!this.takesAhead() || this.txs.has(msg.txid)) return false
    const session = this.host.stateCacheSession
    const ctx = this.createTxContext(msg.txid, tx)
    msg.securityContext = securityContext(tx, msg.payload, this.host.binding)
    setCacheFields(msg, { session, writes: [] })
    this.cachedTxs.add(msg.txid)
    this.ahead.set(msg.txid, [])
    this.send(msg, ctx)
    return true
  }

  /**
   * The executor's turn for a transaction sent ahead: from here on it is the transaction in
   * progress, as if sent now, and what the chaincode sent for it so far is taken in order.
   * Undefined when it was not sent ahead (or its stream has closed since).
   */
  claimAhead (txid: string): TxContext | undefined {
    const held = this.ahead.get(txid)
    const ctx = this.txs.get(txid)
    if (held === undefined || ctx === undefined) return undefined
    this.ahead.delete(txid)
    try {
      this.fire(MsgType.TRANSACTION)
      this.isTransaction.set(txid, true)
      for (const m of held) this.handleMessage(m)
    } catch (err) {
      // As run() does on a protocol error; the close fails this transaction too.
      log.error(`chaincode ${this.name}: ending stream: ${describeError(err)}`)
      void this.close(err as Error)
    }
    return ctx
  }

  /** Whether transactions can be sent ahead now (sendAhead). */
  takesAhead (): boolean {
    return this.cachesState() && this.host.stateCacheSession !== 0 && !this.closed && this.isRunning()
  }

  /** Transactions sent ahead and not claimed. */
  get sentAhead (): number { return this.ahead.size }
  isAhead (txid: string): boolean { return this.ahead.has(txid) }

  deleteTxContext (txid: string): void {
    this.isTransaction.delete(txid)
    this.cachedTxs.delete(txid)
    const ctx = this.txs.get(txid)
    if (ctx === undefined) return
    this.txs.delete(txid)
    for (const c of ctx.cursors.values()) void c.close()
  }

  txContext (txid: string): TxContext | undefined { return this.txs.get(txid) }
  /** Range iterator ids: unique per handler, and deterministic (Fabric uses random UUIDs). */
  nextCursorId (txid: string): string { return `${txid}-${++this.cursorSeq}` }
  /** Reads during a transaction see its own writes; queries read committed state. */
  readsCommitted (txid: string): boolean { return this.isTransaction.get(txid) !== true }

  /**
   * Whether transactions go through the chaincode's state cache: not under privacy, where the
   * peer encrypts each value a confidential transaction writes and decrypts each it reads.
   */
  private cachesState (): boolean {
    return this.stateCache && this.host.confidentiality === undefined
  }

  /**
   * The state encryptor of a confidential transaction in flight, undefined for a public one
   * (or without security). Fabric makes a fresh one for every value, so each starts counting
   * its GCM nonces at 0; so does this.
   */
  stateCipher (txid: string): StateEncryptor | undefined {
    const confidentiality = this.host.confidentiality
    if (confidentiality === undefined) return undefined
    const tx = this.txs.get(txid)?.tx
    if (tx === undefined) throw new Error(`[${shortTxid(txid)}]No context for txid ${txid}`)
    if (tx.confidentialityLevel === ConfidentialityLevel.PUBLIC) return undefined
    if (this.deployTx === undefined) throw new Error(`[${shortTxid(txid)}]no deploy transaction for chaincode ${this.name}`)
    return confidentiality.stateEncryptor(this.deployTx, tx.type === Transaction_Type.CHAINCODE_DEPLOY ? this.deployTx : tx)
  }

  // --- internals ---

  private onRegister (msg: ChaincodeMessage): void {
    let id: ChaincodeID
    try {
      id = decodePayload(ChaincodeIDSchema, msg.payload)
    } catch (err) {
      throw new Error(`Error in received REGISTER, could NOT unmarshal registration info: ${(err as Error).message}`)
    }
    if (id.name === '') throw new Error('Error in received REGISTER: the chaincode name is empty')
    this.chaincodeID = id
    this.host.registerHandler(this)
    this.registered = true
    this.state = 'established'
    log.debug(`chaincode ${id.name} registered from ${this.stream.remote}`)
    this.send(ccMessage(MsgType.REGISTERED))
  }

  /**
   * A confidential transaction's answer encrypted with its state encryptor; if that fails, an
   * answer of type `failed` saying why (Fabric's handler does this for query results, and for
   * a transaction's answer when it set an event with a payload).
   */
  private sealed (msg: ChaincodeMessage, failed: ChaincodeMessage_Type, what: string): ChaincodeMessage {
    try {
      const cipher = this.stateCipher(msg.txid)
      return cipher === undefined ? msg : { ...msg, payload: cipher.encrypt(msg.payload) }
    } catch (err) {
      log.error(`[${shortTxid(msg.txid)}]${what}: ${describeError(err)}`)
      return { ...msg, type: failed, payload: new TextEncoder().encode(`${what} ${describeError(err)}`) }
    }
  }

  /** COMPLETED or ERROR for the INIT or TRANSACTION in progress. */
  private onDone (msg: ChaincodeMessage, dst: HandlerState): void {
    const from = this.state
    this.state = dst
    if (dst === 'ready' && from !== 'ready') {
      this.isTransaction.delete(msg.txid)
      const eventPayload = (msg.chaincodeEvent?.payload.length ?? 0) > 0
      this.notify(eventPayload ? this.sealed(msg, MsgType.ERROR, 'Failed to encrypt chaincode event payload') : msg)
    } else if (dst === 'end') {
      // A failed INIT leaves the chaincode unusable: deregister it, as Fabric does, and hang up.
      this.isTransaction.delete(msg.txid)
      this.notify(msg)
      this.deregister()
      void this.close(new Error(`init failed: ${payloadText(msg)}`))
    }
  }

  /** The answer to a PUT_STATE / DEL_STATE / INVOKE_CHAINCODE: back from the busy state, then to the chaincode. */
  private finishBusy (reply: ChaincodeMessage): void {
    const dst = nextState(this.state, reply.type)
    if (dst === undefined) {
      log.error(`[${shortTxid(reply.txid)}]chaincode ${this.name}: dropping ${typeName(reply.type)}, handler is in state ${this.state}`)
      return
    }
    this.state = dst
    this.send(reply)
  }

  /** Runs one request; Fabric drops a second request for a txid that already has one pending. */
  private serve (msg: ChaincodeMessage, work: () => Promise<ChaincodeMessage>, reply: (m: ChaincodeMessage) => void): void {
    if (this.inflight.has(msg.txid)) {
      log.error(`[${shortTxid(msg.txid)}]chaincode ${this.name}: another request is pending for this txid; dropping ${typeName(msg.type)}`)
      return
    }
    const done: Promise<void> = work()
      .catch((err: Error) => errorMessage(msg.txid, err.message))
      .then(answer => {
        // The txid's answer may have taken the slot over already (its writes being applied).
        if (this.inflight.get(msg.txid) === done) this.inflight.delete(msg.txid)
        if (!this.closed) reply(answer)
      })
    this.inflight.set(msg.txid, done)
  }

  private fire (event: ChaincodeMessage_Type): void {
    const dst = nextState(this.state, event)
    if (dst === undefined) throw new Error(`chaincode ${this.name} cannot take ${typeName(event)} in state ${this.state}`)
    this.state = dst
  }

  private createTxContext (txid: string, tx?: Transaction): TxContext {
    if (!this.registered) throw new Error(`cannot create notifier for txid:${txid}`)
    if (this.txs.has(txid)) throw new Error(`txid:${txid} exists`)
    let notify!: (m: ChaincodeMessage) => void
    const response = new Promise<ChaincodeMessage>(resolve => { notify = resolve })
    const ctx: TxContext = { txid, tx, response, cursors: new Map(), notify }
    this.txs.set(txid, ctx)
    return ctx
  }

  private notify (msg: ChaincodeMessage): void {
    const ctx = this.txs.get(msg.txid)
    if (ctx === undefined) {
      log.debug(`[${shortTxid(msg.txid)}]no one waits for ${typeName(msg.type)} from ${this.name}`)
      return
    }
    for (const c of ctx.cursors.values()) void c.close()
    ctx.cursors.clear()
    const writes = this.cachedTxs.delete(msg.txid) ? cacheFieldsOf(msg)?.writes ?? [] : []
    const pending = this.inflight.get(msg.txid)
    if (writes.length > 0) {
      // Held as the txid's request, so a close waits for it as for a PUT_STATE being served.
      const applied = (pending ?? Promise.resolve()).then(async () => await this.applyWrites(ctx, msg, writes))
      const settled: Promise<void> = applied.then(() => { if (this.inflight.get(msg.txid) === settled) this.inflight.delete(msg.txid) })
      this.inflight.set(msg.txid, settled)
      void applied.then(answer => {
        ctx.notify(answer)
        // What the chaincode ran ahead ran on writes the ledger did not take: it starts over.
        if (answer !== msg && this.ahead.size > 0) void this.close(new Error(`its writes for ${msg.txid} were refused: ${payloadText(answer)}`))
      })
    } else if (pending === undefined) ctx.notify(msg)
    else void pending.then(() => { ctx.notify(msg) })
  }

  /**
   * Applies the writes a transaction's answer brought, in order, as PUT_STATE / DEL_STATE would
   * have; a write the ledger refuses turns the answer into that error, as the chaincode would
   * have seen it fail.
   */
  private async applyWrites (ctx: TxContext, msg: ChaincodeMessage, writes: StateWrite[]): Promise<ChaincodeMessage> {
    const name = this.chaincodeID!.name
    const ledger = this.host.ledger
    try {
      for (const [key, value] of writes) {
        // The transaction was given up (timeout, stream gone): its writes must not reach the next one.
        if (this.txs.get(msg.txid) !== ctx) return msg
        if (value === null) {
          await ledger.deleteState(name, key)
          continue
        }
        const refusal = putStateRefusal(key, value)
        if (refusal !== undefined) throw new Error(refusal)
        await ledger.setState(name, key, value)
      }
      return msg
    } catch (err) {
      // The chaincode holds these writes as done.
      this.host.dropStateCaches()
      const failed = errorMessage(msg.txid, describeError(err))
      failed.chaincodeEvent = msg.chaincodeEvent
      return failed
    }
  }

  /** Sends to the chaincode; a failed send fails the transaction it belongs to (if any). */
  private send (msg: ChaincodeMessage, ctx?: TxContext): void {
    this.stream.send(msg).catch((err: unknown) => {
      log.error(`chaincode ${this.name}: error sending ${typeName(msg.type)}: ${describeError(err)}`)
      ctx?.notify(errorMessage(msg.txid, `Error sending ${typeName(msg.type)}: ${describeError(err)}`))
    })
  }

  private deregister (): void {
    if (!this.registered) return
    this.registered = false
    this.host.deregisterHandler(this)
  }

  /** Fabric sends KEEPALIVE after `chaincode.keepalive` of silence from the chaincode; 0 turns it off. */
  private armKeepalive (): void {
    if (this.host.keepalive <= 0 || this.closed) return
    this.keepaliveTimer?.cancel()
    this.keepaliveTimer = this.host.scheduler.schedule(this.host.keepalive, () => {
      this.keepaliveTimer = undefined
      this.send(ccMessage(MsgType.KEEPALIVE))
      this.armKeepalive()
    })
  }
}
