// A PeerApi that really runs chaincode: a ledger and ChaincodeSupport, NODE packages in the
// in-process runtime (network mode) or chaincode objects registered by name (dev mode). Each
// accepted transaction is committed as its own block before the answer goes back, a stand-in
// for consensus that keeps client tests deterministic.
import { create } from '@bufbuild/protobuf'
import { timestampNow } from '@bufbuild/protobuf/wkt'
import { executeQuery } from '../../src/chaincode/executor.ts'
import { registerInProcessChaincode, unsandboxedInProcessRuntime } from '../../src/chaincode/in-process-runtime.ts'
import type { Chaincode } from '../../src/chaincode/shim/chaincode.ts'
import { ChaincodeSupport } from '../../src/chaincode/support.ts'
import { newDeployTransaction, newExecuteTransaction } from '../../src/chaincode/transactions.ts'
import { utf8 } from '../../src/crypto/bytes.ts'
import type { PeerApi } from '../../src/peer-api.ts'
import { ChaincodeDeploymentSpecSchema, type ChaincodeInvocationSpec } from '../../src/protos/chaincode_pb.ts'
import {
  PeerEndpoint_Type, PeerEndpointSchema, PeersMessageSchema, ResponseSchema, Response_StatusCode, Transaction_Type,
  type Response, type Transaction
} from '../../src/protos/fabric_pb.ts'
import { ServerStatus_StatusCode } from '../../src/protos/server_admin_pb.ts'
import { newLedger, runBatch } from '../unit/chaincode-helpers.ts'

export interface ChaincodePeer extends PeerApi {
  readonly support: ChaincodeSupport
  close (): Promise<void>
}

const respond = (status: Response_StatusCode, msg: string | Uint8Array): Response =>
  create(ResponseSchema, { status, msg: typeof msg === 'string' ? utf8(msg) : msg })

/** `devChaincodes`: dev mode, with these chaincodes registered under their names. */
export async function chaincodePeer (options: { devChaincodes?: Record<string, Chaincode> } = {}): Promise<ChaincodePeer> {
  const ledger = await newLedger()
  const devMode = options.devChaincodes !== undefined
  const support = new ChaincodeSupport({ ledger, userRunsChaincode: devMode, runtime: devMode ? undefined : unsandboxedInProcessRuntime() })
  const registered = await Promise.all(Object.entries(options.devChaincodes ?? {}).map(async ([name, cc]) => await registerInProcessChaincode(support, name, cc)))
  let stopped = false
  let batches: Promise<unknown> = Promise.resolve()
  const rejected = new Map<string, { error: string, at: number }>()

  /** Runs `tx` in a batch of its own after those before it; resolves with its error, if any. */
  const commit = async (tx: Transaction): Promise<Error | undefined> => {
    const run = batches.then(async () => await runBatch(support, [tx]))
    batches = run.catch(() => {})
    const err = (await run).errors[0]
    if (err !== undefined) rejected.set(tx.txid, { error: err.message, at: Date.now() })
    return err
  }
  const query = async (tx: Transaction): Promise<Response> => respond(Response_StatusCode.SUCCESS, await executeQuery({ support }, tx))
  const execute = (cis: ChaincodeInvocationSpec, type: Transaction_Type.CHAINCODE_INVOKE | Transaction_Type.CHAINCODE_QUERY): Transaction =>
    newExecuteTransaction(cis, crypto.randomUUID(), type, timestampNow())

  return {
    support,
    async getBlockchainInfo () { return await ledger.getBlockchainInfo() },
    async getBlockByNumber (n) { return await ledger.getBlockByNumber(Number(n)) },
    async getTransactionByID (txid) { return await ledger.getTransactionByID(txid) },
    async transactionStatus (txid) {
      const at = await ledger.chain.txLocation(txid)
      if (at !== undefined) return { status: 'committed', block: at.block }
      const r = rejected.get(txid)
      return r === undefined ? { status: 'unknown' } : { status: 'rejected', ...r }
    },
    async getPeers () {
      return create(PeersMessageSchema, { peers: [{ ID: { name: 'vp1' }, address: '127.0.0.1:7151', type: PeerEndpoint_Type.VALIDATOR }] })
    },
    async getPeerEndpoint () { return create(PeerEndpointSchema, { ID: { name: 'vp0' }, address: '127.0.0.1:7051', type: PeerEndpoint_Type.VALIDATOR }) },
    async build (spec) { return create(ChaincodeDeploymentSpecSchema, { chaincodeSpec: spec }) },
    async deploy (spec) {
      const cds = create(ChaincodeDeploymentSpecSchema, { chaincodeSpec: spec })
      // Devops.Deploy builds code from a path on the peer: only dev mode (chaincode named, run by the user) has nothing to build.
      if (!devMode) throw new Error('this peer deploys NODE packages sent as transactions only')
      const err = await commit(newDeployTransaction(cds, spec.chaincodeID?.name ?? '', timestampNow()))
      if (err !== undefined) throw err
      return cds
    },
    async invoke (cis) {
      const tx = execute(cis, Transaction_Type.CHAINCODE_INVOKE)
      await commit(tx)
      return respond(Response_StatusCode.SUCCESS, tx.txid)
    },
    async query (cis) { return await query(execute(cis, Transaction_Type.CHAINCODE_QUERY)) },
    async processTransaction (tx) {
      if (tx.type === Transaction_Type.CHAINCODE_QUERY) {
        try { return await query(tx) } catch (err) { return respond(Response_StatusCode.FAILURE, (err as Error).message) }
      }
      // Accepted is all a client learns; a failing transaction is left out of its block.
      await commit(tx)
      return respond(Response_StatusCode.SUCCESS, tx.txid)
    },
    status () { return stopped ? ServerStatus_StatusCode.STOPPED : ServerStatus_StatusCode.STARTED },
    async stop () { stopped = true },
    async close () {
      await Promise.all(registered.map(async r => await r.stop()))
      await support.stopAll()
      await ledger.close()
    }
  }
}
