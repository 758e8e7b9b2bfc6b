import { create, toBinary } from '@bufbuild/protobuf'
import { ChaincodeInputSchema, ChaincodeInvocationSpecSchema } from '../protos/chaincode_pb.ts'
import type { ChaincodeEvent } from '../protos/chaincodeevent_pb.ts'
import { TransactionResultSchema, Transaction_Type, type Transaction, type TransactionResult } from '../protos/fabric_pb.ts'
import { ccMessage, decodePayload, MsgType, payloadText } from './messages.ts'
import type { ChaincodeSupport } from './support.ts'

/** What execution needs: the chaincode support (and through it the ledger), and who hears of failures. */
export interface ExecutionContext {
  support: ChaincodeSupport
  /** Called for every transaction that failed: what Fabric turns into a REJECTION event. */
  onRejection?: (tx: Transaction, error: string) => void
  /** Hears every execution (deploy, invoke, query), how long it took and whether it failed. */
  observer?: ExecutionObserver
  /**
   * security.enabled: throws why a transaction may not run (its certificate or signature, a
   * confidential one that does not decrypt), else gives the transaction to run: a confidential
   * one decrypted. The block keeps the transaction as it came.
   */
  preValidate?: (tx: Transaction) => Transaction
}

export interface ExecutionObserver {
  now (): number
  executed (tx: Transaction, ms: number, error: Error | undefined): void
}

/** One transaction's outcome (Fabric's Execute: result, chaincode event, error). */
export interface ExecutionOutcome {
  result?: Uint8Array
  /** Set by the chaincode with setEvent; stamped with the chaincode name and txid. */
  event?: ChaincodeEvent
  error?: Error
}

export interface BatchOutcome {
  /** The transactions that go into the block, in order. */
  succeeded: Transaction[]
  /** One per executed transaction, failed ones too: they become nonHashData.chaincodeEvents. */
  results: TransactionResult[]
  /** One per executed transaction; undefined where it succeeded. */
  errors: Array<Error | undefined>
}

/**
 * Executes transactions one by one inside the ledger batch the caller began (Fabric's
 * chaincode.ExecuteTransactions). A failed transaction's writes are dropped; it is reported
 * through onRejection and left out of `succeeded`.
 */
export async function executeTransactions (ctx: ExecutionContext, txs: Transaction[]): Promise<BatchOutcome> {
  const succeeded: Transaction[] = []
  const results: TransactionResult[] = []
  const errors: Array<Error | undefined> = []
  ctx.support.openStateCaches()
  const ahead = new Lookahead(ctx.support, txs)
  try {
    for (const [i, tx] of txs.entries()) {
      // With security on, each transaction's signature is checked first, in turn.
      if (ctx.preValidate === undefined) ahead.sendFrom(i)
      const { result, event, error } = await observed(ctx, tx)
      await ahead.settled(i)
      errors.push(error)
      results.push(create(TransactionResultSchema, {
        txid: tx.txid,
        result,
        chaincodeEvent: event,
        errorCode: error === undefined ? 0 : 1,
        error: error?.message ?? ''
      }))
      if (error === undefined) {
        succeeded.push(tx)
        continue
      }
      // Its writes are dropped, those of chaincodes it called too: their caches may hold them.
      ctx.support.dropStateCaches()
      ctx.onRejection?.(tx, error.message)
    }
  } finally {
    ctx.support.closeStateCaches()
  }
  // Unlike Fabric's, no state hash: nothing here reads it, and noops runs a block in many parts.
  return { succeeded, results, errors }
}

/** How many transactions may be sent to a chaincode ahead of their turn. */
const lookahead = 32

/**
 * Sends the invokes of a batch to their chaincode ahead of their turn (ChaincodeSupport.sendAhead),
 * within a run of consecutive invokes of one chaincode only: a transaction of another chaincode
 * in between could call it, and must find it done with the ones before.
 */
class Lookahead {
  private readonly names: Array<string | undefined> = []
  private sentTo = 0

  constructor (private readonly support: ChaincodeSupport, private readonly txs: Transaction[]) {}

  /** Sends txs[i] and what follows it in its run ahead, up to `lookahead` beyond i, unless sent already. */
  sendFrom (i: number): void {
    const name = this.chaincodeOf(i)
    if (name === undefined) return
    // The chaincode went away (and took what was sent ahead): start over from here.
    if (i < this.sentTo && !this.support.isSentAhead(name, this.txs[i].txid)) this.sentTo = i
    // Topped up by halves, so that several cross to the chaincode together.
    if (this.sentTo > i + lookahead / 2) return
    let j = Math.max(this.sentTo, i)
    for (; j < this.txs.length && j <= i + lookahead && this.chaincodeOf(j) === name; j++) {
      if (!this.support.sendAhead(this.txs[j])) break
    }
    this.sentTo = Math.max(this.sentTo, j)
  }

  /** After txs[i]'s turn: if it failed before reaching its chaincode, that chaincode must not run it later. */
  async settled (i: number): Promise<void> {
    const name = this.names[i]
    if (name !== undefined && this.support.isSentAhead(name, this.txs[i].txid)) {
      await this.support.stop(name, new Error(`chaincode ${name} was sent ${this.txs[i].txid} ahead, which did not run`))
    }
  }

  private chaincodeOf (i: number): string | undefined {
    if (i in this.names) return this.names[i]
    const tx = this.txs[i]
    let name: string | undefined
    if (tx.type === Transaction_Type.CHAINCODE_INVOKE) {
      try {
        name = decodePayload(ChaincodeInvocationSpecSchema, tx.payload).chaincodeSpec?.chaincodeID?.name
      } catch {}
    }
    this.names[i] = name
    return name
  }
}

/** Runs a query (never in a block): reads committed state, refuses writes. Throws on failure. */
export async function executeQuery (ctx: ExecutionContext, tx: Transaction): Promise<Uint8Array> {
  if (tx.type !== Transaction_Type.CHAINCODE_QUERY) throw new Error(`not a query transaction: ${Transaction_Type[tx.type] ?? tx.type}`)
  const { result, error } = await observed(ctx, tx)
  if (error !== undefined) throw error
  return result ?? new Uint8Array(0)
}

async function observed (ctx: ExecutionContext, tx: Transaction): Promise<ExecutionOutcome> {
  const o = ctx.observer
  if (o === undefined) return await executeTransaction(ctx, tx)
  const start = o.now()
  const outcome = await executeTransaction(ctx, tx)
  o.executed(tx, o.now() - start, outcome.error)
  return outcome
}

/** One deploy, invoke or query, with Fabric's error texts (clients and REJECTION events show them). */
export async function executeTransaction (ctx: ExecutionContext, given: Transaction): Promise<ExecutionOutcome> {
  const { support } = ctx
  let tx = given
  try {
    if (ctx.preValidate !== undefined) tx = ctx.preValidate(given)
  } catch (err) {
    return { error: err as Error }
  }
  const ledger = support.ledger
  const inLedger = tx.type !== Transaction_Type.CHAINCODE_QUERY
  switch (tx.type) {
    case Transaction_Type.CHAINCODE_DEPLOY: {
      try {
        support.deploy(tx)
      } catch (err) {
        return { error: new Error(`Failed to deploy chaincode spec(${(err as Error).message})`) }
      }
      ledger.txBegin(tx.txid)
      try {
        await support.launch(tx)
      } catch (err) {
        ledger.txFinished(tx.txid, false)
        return { error: err as Error }
      }
      ledger.txFinished(tx.txid, true)
      return {}
    }
    case Transaction_Type.CHAINCODE_INVOKE:
    case Transaction_Type.CHAINCODE_QUERY: {
      let launched
      try {
        launched = await support.launch(tx)
      } catch (err) {
        return { error: new Error(`Failed to launch chaincode spec(${(err as Error).message})`) }
      }
      const name = launched.chaincodeID.name
      const msg = ccMessage(inLedger ? MsgType.TRANSACTION : MsgType.QUERY, { txid: tx.txid, payload: toBinary(ChaincodeInputSchema, launched.input) })
      if (inLedger) ledger.txBegin(tx.txid)
      const finish = (ok: boolean): void => { if (inLedger) ledger.txFinished(tx.txid, ok) }
      let resp
      try {
        resp = await support.execute(name, msg, tx)
      } catch (err) {
        finish(false)
        return { error: new Error(`Failed to execute transaction or query(${(err as Error).message})`) }
      }
      const event = resp.chaincodeEvent
      if (event !== undefined) {
        event.chaincodeID = name
        event.txID = tx.txid
      }
      if (resp.type === MsgType.COMPLETED || resp.type === MsgType.QUERY_COMPLETED) {
        finish(true)
        return { result: resp.payload, event }
      }
      finish(false)
      if (resp.type === MsgType.ERROR || resp.type === MsgType.QUERY_ERROR) {
        return { event, error: new Error(`Transaction or query returned with failure: ${payloadText(resp)}`) }
      }
      return { error: new Error(`receive a response for (${tx.txid}) but in invalid state(${resp.type})`) }
    }
    default:
      return { error: new Error(`Invalid transaction type ${Transaction_Type[tx.type] ?? tx.type}`) }
  }
}
