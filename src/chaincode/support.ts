import { create, toBinary } from '@bufbuild/protobuf'
import {
  ChaincodeDeploymentSpecSchema, ChaincodeInputSchema, ChaincodeInvocationSpecSchema, ChaincodeSpec_Type,
  type ChaincodeDeploymentSpec, type ChaincodeID, type ChaincodeInput, type ChaincodeMessage, type ChaincodeSpec
} from '../protos/chaincode_pb.ts'
import { Transaction_Type, type Transaction } from '../protos/fabric_pb.ts'
import type { Ledger } from '../ledger/ledger.ts'
import { createLogger } from '../util/logger.ts'
import { systemScheduler, TimeoutError, withTimeout, type Scheduler } from '../util/scheduler.ts'
import type { ChaincodeConfidentiality } from './confidential-state.ts'
import { chaincodeIDText, Handler, type HandlerHost } from './handler.ts'
import { ccMessage, decodePayload, MsgType, payloadText, typeName } from './messages.ts'
import { nodeChaincodeName } from './package.ts'
import type { ChaincodeRuntime, LaunchedChaincode } from './runtime.ts'
import type { ChaincodeStream } from './stream.ts'
import { invocationSpecOf } from './spec-bytes.ts'
import { newExecuteTransaction } from './transactions.ts'
import type { TxContext } from './tx-context.ts'

const log = createLogger('chaincode')

export interface ChaincodeSupportInit {
  ledger: Ledger
  /** Dev mode (--peer-chaincodedev, chaincode.mode=dev): the user starts chaincodes, which register themselves. */
  userRunsChaincode?: boolean
  /** Where deployed chaincode runs outside dev mode. */
  runtime?: ChaincodeRuntime
  /** Limit for one INIT, TRANSACTION or QUERY, in ms (Fabric hard-codes 30 s). */
  executeTimeout?: number
  /** How long a launched chaincode has to register, in ms (chaincode.startuptimeout, 300000). */
  startupTimeout?: number
  /** chaincode.keepalive in ms; 0 (the default) sends no KEEPALIVE. */
  keepalive?: number
  scheduler?: Scheduler
  /** peer.networkId and peer.id, which Fabric names in launch errors. */
  networkId?: string
  peerId?: string
  /** security.enabled: the transaction binding chaincode reads with GetBinding (Fabric's secHelper.GetTransactionBinding). */
  binding?: (tx: Transaction) => Uint8Array
  /** security.enabled: confidential transactions decrypted, a confidential chaincode's state encrypted. */
  confidentiality?: ChaincodeConfidentiality
}

/** A started or registered chaincode (Fabric's chaincodeRTEnv). */
interface Entry {
  handler?: Handler
  launched?: LaunchedChaincode
  registeredSignal?: () => void
}

/** What launch() learned from the transaction: who to run and with which input. */
export interface Launched { chaincodeID: ChaincodeID, input: ChaincodeInput }

type Spec = Launched & { cds?: ChaincodeDeploymentSpec }

/**
 * Fabric's ChaincodeSupport: registers chaincode streams, launches deployed chaincode through a
 * runtime (or waits for the user's in dev mode), sends INIT / READY / TRANSACTION / QUERY and
 * waits for the answers with a timeout, killing chaincode that does not answer.
 */
export class ChaincodeSupport implements HandlerHost {
  readonly ledger: Ledger
  readonly userRunsChaincode: boolean
  readonly executeTimeout: number
  readonly startupTimeout: number
  readonly keepalive: number
  readonly scheduler: Scheduler
  readonly binding?: (tx: Transaction) => Uint8Array
  readonly confidentiality?: ChaincodeConfidentiality
  private readonly runtime?: ChaincodeRuntime
  private readonly running = new Map<string, Entry>()
  private readonly launchLocks = new Map<string, Promise<void>>()
  /** Which txid holds each chaincode's launch lock. */
  private readonly launchOwners = new Map<string, string>()
  private readonly registrationListeners = new Set<(name: string) => void>()
  private readonly where: string
  private cacheSession = 0
  private cacheSessionOpen = false
  /** The ledger batch the current session belongs to, while nothing has ended it (see openStateCaches). */
  private cacheSessionBatch?: object
  /** What each transaction asks for, decoded once: a batch's invoke is looked at ahead, sent ahead, then run. */
  private readonly specs = new WeakMap<Transaction, Spec>()

  constructor (init: ChaincodeSupportInit) {
    this.ledger = init.ledger
    this.userRunsChaincode = init.userRunsChaincode ?? false
    this.runtime = init.runtime
    this.executeTimeout = init.executeTimeout ?? 30_000
    this.startupTimeout = init.startupTimeout ?? 300_000
    this.keepalive = init.keepalive ?? 0
    this.scheduler = init.scheduler ?? systemScheduler
    this.binding = init.binding
    this.confidentiality = init.confidentiality
    this.where = `networkid:${init.networkId ?? 'dev'},peerid:${init.peerId ?? ''}`
  }

  /** Serves one Register stream until it ends (ChaincodeSupport.Register). */
  async handleStream (stream: ChaincodeStream): Promise<void> {
    await new Handler(this, stream).run()
  }

  /** Calls `listener` with the name of every chaincode that registers from now on. */
  onRegister (listener: (name: string) => void): () => void {
    this.registrationListeners.add(listener)
    return () => this.registrationListeners.delete(listener)
  }

  /** Names of the chaincodes registered now. */
  registered (): string[] {
    return [...this.running].filter(([, e]) => e.handler?.registered === true).map(([n]) => n)
  }

  // --- HandlerHost ---

  registerHandler (h: Handler): void {
    const name = h.chaincodeID!.name
    const e = this.running.get(name)
    if (e?.handler?.registered === true) throw new Error(`Duplicate chaincodeID error: ${chaincodeIDText(h.chaincodeID!)}`)
    if (e !== undefined) {
      e.handler = h
      e.registeredSignal?.()
    } else {
      this.running.set(name, { handler: h })
    }
    for (const l of this.registrationListeners) l(name)
  }

  deregisterHandler (h: Handler): void {
    const name = h.chaincodeID!.name
    const e = this.running.get(name)
    if (e?.handler !== h) return
    this.running.delete(name)
    void e.launched?.kill(new Error(`chaincode ${name} deregistered`))
  }

  get stateCacheSession (): number { return this.cacheSessionOpen ? this.cacheSession : 0 }

  dropStateCaches (): void {
    // Session numbers travel as uint32; one a block would take ages to wrap.
    this.cacheSession = this.cacheSession % 0xfffffff0 + 1
    this.cacheSessionBatch = undefined
  }

  async callChaincode (spec: ChaincodeSpec, txid: string, type: Transaction_Type.CHAINCODE_INVOKE | Transaction_Type.CHAINCODE_QUERY, caller: TxContext | undefined): Promise<ChaincodeMessage> {
    const tx = newExecuteTransaction(create(ChaincodeInvocationSpecSchema, { chaincodeSpec: spec }), txid, type, caller?.tx?.timestamp)
    const { chaincodeID, input } = await this.launch(tx)
    return await this.execute(chaincodeID.name, type === Transaction_Type.CHAINCODE_INVOKE ? MsgType.TRANSACTION : MsgType.QUERY, tx, input)
  }

  // --- what the executor drives ---

  /**
   * Transactions executed from now on run one at a time, in order, on state nothing else changes
   * until closeStateCaches: the chaincodes' caches of their namespaces (src/chaincode/cache-fields.ts)
   * hold for them. Outside a session every read goes to the ledger. `batch` names the ledger batch
   * they run into, when the caller runs a batch in several parts with nothing else changing its
   * state in between: the next part of the same batch goes on with the session (and what the
   * chaincodes cached), unless something dropped it since.
   */
  openStateCaches (batch?: object): void {
    if (batch === undefined || batch !== this.cacheSessionBatch) this.dropStateCaches()
    this.cacheSessionBatch = batch
    this.cacheSessionOpen = true
  }

  /**
   * Whatever comes next (commit, rollback, state transfer, a query) may change state behind the
   * caches; only the next part of the same ledger batch may go on with them.
   */
  closeStateCaches (): void {
    if (this.cacheSessionBatch === undefined) this.dropStateCaches()
    this.cacheSessionOpen = false
    // Only if execution was cut short: a chaincode must not go on with transactions nobody claims.
    for (const [name, e] of this.running) {
      if ((e.handler?.sentAhead ?? 0) > 0) void this.stop(name, new Error(`chaincode ${name} was sent transactions that were not executed`))
    }
  }

  /** The chaincode an invoke calls; undefined for anything else, or an invoke that cannot run. */
  invokedChaincode (tx: Transaction): string | undefined {
    if (tx.type !== Transaction_Type.CHAINCODE_INVOKE) return undefined
    try {
      return this.specOf(tx).chaincodeID.name
    } catch {
      return undefined
    }
  }

  /** Whether `txid` was sent ahead to chaincode `name` and is still waiting for its turn there. */
  isSentAhead (name: string, txid: string): boolean {
    return this.running.get(name)?.handler?.isAhead(txid) ?? false
  }

  /**
   * Sends an invoke to its chaincode before its turn (Handler.sendAhead), inside a cache session,
   * so that chaincode can start on it without waiting for the peer; its turn must come in the
   * session (execute claims it). False when the chaincode cannot take it ahead; it is then sent in turn.
   */
  sendAhead (tx: Transaction): boolean {
    if (tx.type !== Transaction_Type.CHAINCODE_INVOKE) return false
    let spec: Launched
    try {
      spec = this.specOf(tx)
    } catch {
      return false
    }
    const handler = this.running.get(spec.chaincodeID.name)?.handler
    if (handler === undefined || !handler.takesAhead()) return false
    const msg = ccMessage(MsgType.TRANSACTION, { txid: tx.txid, payload: toBinary(ChaincodeInputSchema, spec.input) })
    return handler.sendAhead(msg, tx)
  }

  /**
   * Deploy-time checks (Fabric's ChaincodeSupport.Deploy). Dev mode has nothing to check: the
   * user runs the chaincode. Returns the deployment spec.
   */
  deploy (tx: Transaction): ChaincodeDeploymentSpec {
    const cds = decodePayload(ChaincodeDeploymentSpecSchema, tx.payload)
    if (this.userRunsChaincode) return cds
    const spec = cds.chaincodeSpec
    const name = spec?.chaincodeID?.name ?? ''
    if (spec === undefined || name === '') throw new Error('chaincode name not set')
    if (this.running.has(name)) throw new Error(`deploy attempted but a chaincode with same name running ${name}`)
    if (spec.type === ChaincodeSpec_Type.NODE) {
      const expected = nodeChaincodeName(cds.codePackage, spec.ctorMsg?.args ?? [])
      if (name !== expected) throw new Error(`chaincode name ${name} does not match its NODE package and constructor: expected ${expected}`)
    }
    const runtime = this.requireRuntime(spec)
    try {
      runtime.validate({ name, spec, codePackage: cds.codePackage })
    } catch (err) {
      throw new Error(`Error starting container: ${(err as Error).message}`)
    }
    return cds
  }

  /**
   * Makes sure the chaincode of `tx` runs and has had its INIT (deploy) or READY: Fabric's Launch.
   * Launches of one chaincode are serialized so a query and an invoke cannot both start it; a
   * call from inside that launch (a chaincode's INIT calling itself) does not wait for it.
   */
  async launch (tx: Transaction): Promise<Launched> {
    const spec = this.specOf(tx)
    const name = spec.chaincodeID.name
    // Running and no launch under way (most calls): what launchLocked would find, without the lock.
    const handler = this.running.get(name)?.handler
    if (!this.launchLocks.has(name) && spec.cds === undefined && handler?.registered === true && handler.isRunning()) {
      return { chaincodeID: spec.chaincodeID, input: spec.input }
    }
    if (this.launchOwners.get(name) === tx.txid) return await this.launchLocked(tx, spec)
    const previous = this.launchLocks.get(name) ?? Promise.resolve()
    let release!: () => void
    const mine = new Promise<void>(resolve => { release = resolve })
    const chained = previous.then(async () => await mine)
    this.launchLocks.set(name, chained)
    await previous
    this.launchOwners.set(name, tx.txid)
    try {
      return await this.launchLocked(tx, spec)
    } finally {
      this.launchOwners.delete(name)
      release()
      if (this.launchLocks.get(name) === chained) this.launchLocks.delete(name)
    }
  }

  private async launchLocked (tx: Transaction, { chaincodeID, input, cds: deployCds }: Spec): Promise<Launched> {
    const name = chaincodeID.name
    const e = this.running.get(name)
    if (e !== undefined) {
      if (e.handler?.registered !== true) throw new Error(`premature execution - chaincode (${name}) is being launched`)
      if (e.handler.isRunning()) return { chaincodeID, input }
    }
    let cds = deployCds
    // The deploy transaction as it runs (decrypted): a confidential chaincode's state keys come from it.
    let deployTx = tx
    if (cds === undefined) {
      if (this.userRunsChaincode) log.error('You are attempting to perform an action other than Deploy on Chaincode that is not ready and you are in developer mode. Did you forget to Deploy your chaincode?')
      const depTx = await this.ledger.getTransactionByID(name)
      if (depTx === undefined) throw new Error(`Could not get deployment transaction for ${name} - LedgerError - ResourceNotFound: ledger: resource not found`)
      try {
        deployTx = this.confidentiality?.preExecute(depTx) ?? depTx
      } catch (err) {
        throw new Error(`failed tx preexecution${name} - ${(err as Error).message}`)
      }
      try {
        cds = decodePayload(ChaincodeDeploymentSpecSchema, deployTx.payload)
      } catch (err) {
        throw new Error(`failed to unmarshal deployment transactions for ${name} - ${(err as Error).message}`)
      }
    }
    if (!this.userRunsChaincode && e === undefined) await this.launchAndWaitForRegister(cds, name, tx.txid)
    // Fabric sends INIT only for a deploy whose constructor has args; otherwise READY.
    const initArgs = deployCds !== undefined && input.args.length > 0 ? input.args : undefined
    try {
      await this.sendInitOrReady(tx, name, initArgs, input, deployTx)
    } catch (err) {
      await this.stop(name, err as Error)
      throw new Error(`Failed to init chaincode(${(err as Error).message})`)
    }
    return { chaincodeID, input }
  }

  /** Sends a TRANSACTION or QUERY of `tx` and waits for the answer (Fabric's Execute); one sent ahead is only claimed. */
  async execute (name: string, type: typeof MsgType.TRANSACTION | typeof MsgType.QUERY, tx: Transaction, input: ChaincodeInput): Promise<ChaincodeMessage> {
    const e = this.running.get(name)
    if (e?.handler === undefined) throw new Error(`Cannot execute transaction or query for ${name}`)
    const handler = e.handler
    const txid = tx.txid
    let ctx: TxContext
    try {
      ctx = (type === MsgType.TRANSACTION ? handler.claimAhead(txid) : undefined) ??
        handler.sendExecute(ccMessage(type, { txid, payload: toBinary(ChaincodeInputSchema, input) }), tx)
    } catch (err) {
      throw new Error(`Error sending ${typeName(type)}: ${(err as Error).message}`)
    }
    try {
      return await withTimeout(this.scheduler, ctx.response, this.executeTimeout, 'Timeout expired while executing transaction')
    } catch (err) {
      // A sandboxed chaincode that does not answer is killed (and restarted on next use); an
      // external one stuck in a transaction can take no other, so its stream is closed.
      if (err instanceof TimeoutError && (e.launched !== undefined || type === MsgType.TRANSACTION)) {
        await this.stop(name, new Error(`chaincode ${name} did not answer ${typeName(type)} ${txid} within ${this.executeTimeout} ms`))
      }
      throw err
    } finally {
      handler.deleteTxContext(txid)
    }
  }

  /** Stops a chaincode: closes its stream and kills what the runtime started. */
  async stop (name: string, reason: Error = new Error(`chaincode ${name} stopped`)): Promise<void> {
    const e = this.running.get(name)
    if (e === undefined) return
    this.running.delete(name)
    if (e.handler !== undefined) await e.handler.close(reason)
    if (e.launched !== undefined) await e.launched.kill(reason)
  }

  /** Stops every chaincode and the runtime. */
  async stopAll (): Promise<void> {
    for (const name of [...this.running.keys()]) await this.stop(name, new Error('peer is stopping'))
    await this.runtime?.stop()
  }

  // --- internals ---

  private specOf (tx: Transaction): Spec {
    let decoded = this.specs.get(tx)
    if (decoded === undefined) {
      decoded = this.decodeSpec(tx)
      this.specs.set(tx, decoded)
    }
    return decoded
  }

  private decodeSpec (tx: Transaction): Spec {
    let spec: ChaincodeSpec | undefined
    let cds: ChaincodeDeploymentSpec | undefined
    if (tx.type === Transaction_Type.CHAINCODE_DEPLOY) {
      cds = decodePayload(ChaincodeDeploymentSpecSchema, tx.payload)
      spec = cds.chaincodeSpec
    } else if (tx.type === Transaction_Type.CHAINCODE_INVOKE || tx.type === Transaction_Type.CHAINCODE_QUERY) {
      spec = invocationSpecOf(tx.payload).chaincodeSpec
    } else {
      throw new Error(`invalid transaction type: ${tx.type}`)
    }
    if (spec?.chaincodeID === undefined || spec.chaincodeID.name === '') throw new Error('chaincode name not set')
    if (spec.ctorMsg === undefined) throw new Error(`chaincode ${spec.chaincodeID.name}: the spec has no ctorMsg`)
    return { chaincodeID: spec.chaincodeID, input: spec.ctorMsg, cds }
  }

  private requireRuntime (spec: ChaincodeSpec): ChaincodeRuntime {
    const kind = ChaincodeSpec_Type[spec.type] ?? String(spec.type)
    if (this.runtime === undefined) throw new Error(`Error starting container: this peer has no chaincode runtime (start it in dev mode to run ${kind} chaincode yourself)`)
    if (!this.runtime.supports(spec)) throw new Error(`Error starting container: the ${this.runtime.name} runtime cannot run ${kind} chaincode`)
    return this.runtime
  }

  private async launchAndWaitForRegister (cds: ChaincodeDeploymentSpec, name: string, txid: string): Promise<void> {
    const spec = cds.chaincodeSpec!
    const runtime = this.requireRuntime(spec)
    let registered!: () => void
    const registration = new Promise<void>(resolve => { registered = resolve })
    const entry: Entry = { registeredSignal: registered }
    this.running.set(name, entry)
    try {
      entry.launched = await runtime.launch({ name, spec, codePackage: cds.codePackage })
    } catch (err) {
      this.running.delete(name)
      throw new Error(`Error starting container: ${(err as Error).message}`)
    }
    // A chaincode that fails to load ends its stream with why: that is the deployer's answer.
    const ended = new Handler(this, entry.launched.stream, { stateCache: entry.launched.cachesState }).run().then(failure => { throw failure ?? new Error('the chaincode ended its stream before registering') })
    try {
      await withTimeout(this.scheduler, Promise.race([registration, ended]), this.startupTimeout, `Timeout expired while starting chaincode ${name}(${this.where},tx:${txid})`)
      log.debug(`chaincode ${name} started by the ${runtime.name} runtime`)
    } catch (err) {
      const reason = err instanceof TimeoutError ? err : new Error(`registration failed for ${name}(${this.where},tx:${txid}): ${(err as Error).message}`)
      if (this.running.get(name) === entry) this.running.delete(name)
      await entry.handler?.close(reason)
      await entry.launched.kill(reason)
      throw reason
    } finally {
      ended.catch(() => {})
    }
  }

  private async sendInitOrReady (tx: Transaction, name: string, initArgs: Uint8Array[] | undefined, input: ChaincodeInput, deployTx: Transaction): Promise<void> {
    const handler = this.running.get(name)?.handler
    if (handler === undefined) throw new Error(`handler not found for chaincode ${name}`)
    let ctx: TxContext
    try {
      ctx = handler.initOrReady(tx.txid, initArgs, tx, input, deployTx)
    } catch (err) {
      throw new Error(`Error sending INIT: ${(err as Error).message}`)
    }
    try {
      const msg = await withTimeout(this.scheduler, ctx.response, this.executeTimeout, 'Timeout expired while executing send init message')
      if (msg.type === MsgType.ERROR) throw new Error(`Error initializing container ${name}: ${payloadText(msg)}`)
    } finally {
      handler.deleteTxContext(tx.txid)
    }
  }
}
