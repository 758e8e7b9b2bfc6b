// A PeerApi for the surface tests: a real Ledger (memory store, core.yaml bucket tree) with a
// tiny transaction processor in place of chaincode + consensus. It runs chaincode_example02's
// semantics, batches submitted transactions and commits them as real blocks when flushed,
// and sends REJECTION events for failing transactions. With `transferEvents` a successful
// transfer also sets a "transfer" chaincode event (example02 itself sets none), so tests can
// see CHAINCODE events.
import { create, fromBinary } from '@bufbuild/protobuf'
import { timestampNow } from '@bufbuild/protobuf/wkt'
import { newDeployTransaction, newExecuteTransaction } from '../../src/chaincode/transactions.ts'
import { fromUtf8, utf8 } from '../../src/crypto/bytes.ts'
import { EventHub } from '../../src/events/hub.ts'
import { Ledger, makeGenesis } from '../../src/ledger/ledger.ts'
import type { PeerApi } from '../../src/peer-api.ts'
import type { PeerMetrics } from '../../src/peer-node/metrics.ts'
import {
  ChaincodeDeploymentSpecSchema, ChaincodeInvocationSpecSchema,
  type ChaincodeDeploymentSpec, type ChaincodeInvocationSpec, type ChaincodeSpec
} from '../../src/protos/chaincode_pb.ts'
import {
  PeerEndpoint_Type, PeerEndpointSchema, PeersMessageSchema, ResponseSchema, Response_StatusCode, TransactionResultSchema,
  Transaction_Type, type Response, type Transaction, type TransactionResult
} from '../../src/protos/fabric_pb.ts'
import { ServerStatus_StatusCode } from '../../src/protos/server_admin_pb.ts'
import { memoryStore } from '../../src/storage/index.ts'

export interface FakePeer extends PeerApi {
  readonly ledger: Ledger
  readonly hub: EventHub
  /** Commits everything submitted so far as one block (an empty batch commits nothing). */
  flush (): Promise<void>
  /** As PeerNode's, for the metrics endpoint; one peer (vp1) is connected. */
  metrics (): PeerMetrics
  readonly stopped: boolean
  close (): Promise<void>
}

const success = (msg: string | Uint8Array): Response =>
  create(ResponseSchema, { status: Response_StatusCode.SUCCESS, msg: typeof msg === 'string' ? utf8(msg) : msg })
const failure = (msg: string): Response => create(ResponseSchema, { status: Response_StatusCode.FAILURE, msg: utf8(msg) })

function specOf (tx: Transaction): ChaincodeSpec | undefined {
  if (tx.type === Transaction_Type.CHAINCODE_DEPLOY) return fromBinary(ChaincodeDeploymentSpecSchema, tx.payload).chaincodeSpec
  return fromBinary(ChaincodeInvocationSpecSchema, tx.payload).chaincodeSpec
}

export async function fakePeer (options: { onStop?: () => void, transferEvents?: boolean } = {}): Promise<FakePeer> {
  const ledger = await Ledger.open(await memoryStore())
  const hub = new EventHub({ bufferSize: 100, timeoutMs: 10 })
  hub.attachLedger(ledger)
  await makeGenesis(ledger)
  const deployed = new Set<string>()
  const committed = { blocks: 0, transactions: 0 }
  const calls: PeerMetrics['chaincode'] = { deploy: { calls: 0, errors: 0, totalMs: 0 }, invoke: { calls: 0, errors: 0, totalMs: 0 }, query: { calls: 0, errors: 0, totalMs: 0 } }
  const counted = async <T>(kind: keyof PeerMetrics['chaincode'], run: () => Promise<T>): Promise<T> => {
    const c = calls[kind]
    const start = performance.now()
    c.calls++
    try {
      return await run()
    } catch (err) {
      c.errors++
      throw err
    } finally {
      c.totalMs += performance.now() - start
    }
  }
  ledger.onBlock(({ block }) => { committed.blocks++; committed.transactions += block.transactions.length })
  let pending: Transaction[] = []
  const rejected = new Map<string, { error: string, at: number }>()
  let stopped = false

  const num = (s: string): number => {
    if (!/^-?\d+$/.test(s)) throw new Error('Invalid transaction amount, expecting a integer value')
    return Number(s)
  }

  /** chaincode_example02: init, delete, transfer; writes only through the ledger. */
  async function execute (tx: Transaction): Promise<TransactionResult> {
    const spec = specOf(tx)
    const cc = spec?.chaincodeID?.name ?? ''
    const [fn = '', ...args] = (spec?.ctorMsg?.args ?? []).map(fromUtf8)
    const result = create(TransactionResultSchema, { txid: tx.txid })
    if (tx.type === Transaction_Type.CHAINCODE_DEPLOY) {
      if (args.length !== 4) throw new Error('Incorrect number of arguments. Expecting 4')
      await ledger.setState(cc, args[0], utf8(String(num(args[1]))))
      await ledger.setState(cc, args[2], utf8(String(num(args[3]))))
      deployed.add(cc)
      return result
    }
    if (!deployed.has(cc)) throw new Error(`chaincode ${cc} is not deployed`)
    if (fn === 'delete') {
      await ledger.deleteState(cc, args[0])
      return result
    }
    if (args.length !== 3) throw new Error('Incorrect number of arguments. Expecting 3')
    const [a, b] = [args[0], args[1]]
    const av = await ledger.getState(cc, a, false)
    const bv = await ledger.getState(cc, b, false)
    if (av === null || bv === null) throw new Error('Entity not found')
    const x = num(args[2])
    // Both read before either write: "invoke a a X" ends with a + X (the second write wins), as in example02.
    await ledger.setState(cc, a, utf8(String(Number(fromUtf8(av)) - x)))
    await ledger.setState(cc, b, utf8(String(Number(fromUtf8(bv)) + x)))
    if (options.transferEvents === true) result.chaincodeEvent = { $typeName: 'protos.ChaincodeEvent', chaincodeID: cc, txID: tx.txid, eventName: 'transfer', payload: utf8(`${a}->${b}:${x}`) }
    return result
  }

  async function runQuery (tx: Transaction): Promise<Uint8Array> {
    const spec = specOf(tx)
    const cc = spec?.chaincodeID?.name ?? ''
    const [fn = '', key = ''] = (spec?.ctorMsg?.args ?? []).map(fromUtf8)
    if (!deployed.has(cc)) throw new Error(`chaincode ${cc} is not deployed`)
    if (fn !== 'query') throw new Error('Invalid query function name. Expecting "query"')
    const v = await ledger.getState(cc, key, true)
    if (v === null) throw new Error(`{"Error":"Nil amount for ${key}"}`)
    return v
  }

  async function flush (): Promise<void> {
    if (pending.length === 0) return
    const txs = pending
    pending = []
    const id = `batch-${ledger.height}`
    ledger.beginTxBatch(id)
    const ok: Transaction[] = []
    const results: TransactionResult[] = []
    for (const tx of txs) {
      ledger.txBegin(tx.txid)
      try {
        results.push(await counted(tx.type === Transaction_Type.CHAINCODE_DEPLOY ? 'deploy' : 'invoke', () => execute(tx)))
        ledger.txFinished(tx.txid, true)
        ok.push(tx)
      } catch (err) {
        ledger.txFinished(tx.txid, false)
        results.push(create(TransactionResultSchema, { txid: tx.txid, errorCode: 1, error: (err as Error).message }))
        const error = `Transaction or query returned with failure: ${(err as Error).message}`
        rejected.set(tx.txid, { error, at: Date.now() })
        hub.publishRejection(tx, error)
      }
    }
    // Only the chaincode event goes into nonHashData, as the ledger does with results.
    await ledger.commitTxBatch(id, ok, results.map(r => create(TransactionResultSchema, { chaincodeEvent: r.chaincodeEvent })))
  }

  function submit (tx: Transaction): Response {
    if (stopped) return failure('peer is stopped')
    pending.push(tx)
    return success(tx.txid)
  }

  async function processTransaction (tx: Transaction): Promise<Response> {
    if (tx.type === Transaction_Type.CHAINCODE_QUERY) {
      try { return success(await counted('query', () => runQuery(tx))) } catch (err) { return failure((err as Error).message) }
    }
    if (tx.type !== Transaction_Type.CHAINCODE_DEPLOY && tx.type !== Transaction_Type.CHAINCODE_INVOKE) return failure(`unsupported transaction type ${tx.type}`)
    return submit(tx)
  }

  const buildSpec = (spec: ChaincodeSpec): ChaincodeDeploymentSpec => create(ChaincodeDeploymentSpecSchema, { chaincodeSpec: spec })

  const peer: FakePeer = {
    ledger,
    hub,
    flush,
    metrics: () => ({
      height: ledger.height,
      blocksCommitted: committed.blocks,
      transactionsCommitted: committed.transactions,
      chaincode: structuredClone(calls),
      peers: 1,
      eventClients: hub.consumerCount,
      eventsAccepted: hub.stats.accepted,
      eventsRefused: hub.stats.refused,
      eventDeliveries: hub.stats.delivered
    }),
    get stopped () { return stopped },
    async getBlockchainInfo () { return ledger.getBlockchainInfo() },
    async getBlockByNumber (n) { return n > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : ledger.getBlockByNumber(Number(n)) },
    async getTransactionByID (txid) { return ledger.getTransactionByID(txid) },
    async transactionStatus (txid) {
      const at = await ledger.chain.txLocation(txid)
      if (at !== undefined) return { status: 'committed', block: at.block }
      const r = rejected.get(txid)
      return r === undefined ? { status: 'unknown' } : { status: 'rejected', ...r }
    },
    async getPeers () {
      return create(PeersMessageSchema, { peers: [{ ID: { name: 'vp1' }, address: '127.0.0.1:7151', type: PeerEndpoint_Type.VALIDATOR }] })
    },
    async getPeerEndpoint () {
      return create(PeerEndpointSchema, { ID: { name: 'vp0' }, address: '127.0.0.1:7051', type: PeerEndpoint_Type.VALIDATOR })
    },
    async build (spec) { return buildSpec(spec) },
    async deploy (spec) {
      const cds = buildSpec(spec)
      // Dev mode: the deploy transaction's id is the chaincode name.
      const resp = submit(newDeployTransaction(cds, spec.chaincodeID?.name ?? '', timestampNow()))
      if (resp.status === Response_StatusCode.FAILURE) throw new Error(fromUtf8(resp.msg))
      return cds
    },
    async invoke (cis: ChaincodeInvocationSpec) {
      if ((cis.chaincodeSpec?.chaincodeID?.name ?? '') === '') throw new Error('name not given for invoke/query')
      const resp = submit(newExecuteTransaction(cis, crypto.randomUUID(), Transaction_Type.CHAINCODE_INVOKE, timestampNow()))
      if (resp.status === Response_StatusCode.FAILURE) throw new Error(fromUtf8(resp.msg))
      return resp
    },
    async query (cis: ChaincodeInvocationSpec) {
      if ((cis.chaincodeSpec?.chaincodeID?.name ?? '') === '') throw new Error('name not given for invoke/query')
      const resp = await processTransaction(newExecuteTransaction(cis, crypto.randomUUID(), Transaction_Type.CHAINCODE_QUERY, timestampNow()))
      if (resp.status === Response_StatusCode.FAILURE) throw new Error(fromUtf8(resp.msg))
      return resp
    },
    processTransaction,
    status () { return stopped ? ServerStatus_StatusCode.STOPPED : ServerStatus_StatusCode.STARTED },
    async stop () {
      stopped = true
      options.onStop?.()
    },
    async close () {
      hub.close()
      await ledger.close()
    }
  }
  return peer
}

