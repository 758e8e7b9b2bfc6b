// Runs in the tab: a ledger in memory and NODE chaincode in Web Workers, for chaincode-worker.test.ts.
import { executeQuery } from '../../../src/chaincode/executor.ts'
import { nodeDeploymentSpec } from '../../../src/chaincode/package.ts'
import { ChaincodeSupport } from '../../../src/chaincode/support.ts'
import { fromUtf8 } from '../../../src/crypto/bytes.ts'
import { webWorkerRuntime } from '../../../web/chaincode/worker-runtime.ts'
import { deployOf, invoke, newLedger, query, runBatch } from '../../unit/chaincode-helpers.ts'
import { exposeTestApi } from '../page-api.ts'

let support: ChaincodeSupport | undefined

exposeTestApi('chaincode', {
  async start (executeTimeout: number) {
    await support?.stopAll()
    support = new ChaincodeSupport({ ledger: await newLedger(), runtime: webWorkerRuntime(), executeTimeout })
  },
  /** Deploys a package; returns its name. */
  async deploy (source: string, args: string[]) {
    const cds = nodeDeploymentSpec(source, args)
    const run = await runBatch(support!, [deployOf(cds)])
    if (run.errors[0] !== undefined) throw run.errors[0]
    return cds.chaincodeSpec!.chaincodeID!.name
  },
  /** One batch; returns each transaction's error text ('' = success). */
  async invoke (name: string, calls: string[][]) {
    const run = await runBatch(support!, calls.map(args => invoke(name, args)))
    return run.errors.map(e => e?.message ?? '')
  },
  async query (name: string, args: string[]) {
    return fromUtf8(await executeQuery({ support: support! }, query(name, args)))
  },
  async stop () { await support?.stopAll() }
})
