// Network mode (the peer launches deployed NODE packages) with the unsandboxed in-process runtime.
import { afterEach, describe, expect, it } from 'vitest'
import { EXAMPLES_ROOT, packageChaincode } from '../../node/chaincode/package.ts'
import { executeQuery } from '../../src/chaincode/executor.ts'
import { unsandboxedInProcessRuntime } from '../../src/chaincode/in-process-runtime.ts'
import { nodeChaincodeName, nodeDeploymentSpec } from '../../src/chaincode/package.ts'
import { ChaincodeSupport } from '../../src/chaincode/support.ts'
import { fromUtf8, utf8 } from '../../src/crypto/bytes.ts'
import { VirtualScheduler } from '../sim/scheduler.ts'
import { deployOf, devDeploy, invoke, newLedger, query, runBatch, stateOf } from './chaincode-helpers.ts'
import { waitFor } from '../helpers/wait.ts'

const supports: ChaincodeSupport[] = []
afterEach(async () => { for (const s of supports.splice(0)) await s.stopAll() })

async function netSupport (opts: Partial<ConstructorParameters<typeof ChaincodeSupport>[0]> = {}): Promise<ChaincodeSupport> {
  const s = new ChaincodeSupport({ ledger: await newLedger(), runtime: unsandboxedInProcessRuntime(), ...opts })
  supports.push(s)
  return s
}

const example02 = new URL('../../examples/chaincode/example02.ts', import.meta.url).pathname

describe('NODE packages', () => {
  it('are named hex(SHAKE256(package ‖ ChaincodeInput)) and deploy under that name', async () => {
    const support = await netSupport()
    const source = await packageChaincode(example02, { roots: [EXAMPLES_ROOT] })
    const cds = nodeDeploymentSpec(source, ['init', 'a', '100', 'b', '200'])
    const name = cds.chaincodeSpec!.chaincodeID!.name
    expect(name).toMatch(/^[0-9a-f]{128}$/)
    expect(name).toBe(nodeChaincodeName(source, ['init', 'a', '100', 'b', '200'].map(utf8)))
    expect(name).not.toBe(nodeChaincodeName(source, ['init', 'a', '100', 'b', '201'].map(utf8)))

    const run = await runBatch(support, [deployOf(cds), invoke(name, ['invoke', 'a', 'b', '30'])])
    expect(run.errors).toEqual([undefined, undefined])
    expect(await stateOf(support.ledger, name, 'b')).toBe('230')
    expect(fromUtf8(await executeQuery({ support }, query(name, ['query', 'a'])))).toBe('70')
  })

  it('refuses a package deployed under a name that is not its own', async () => {
    const support = await netSupport()
    const cds = nodeDeploymentSpec(await packageChaincode(example02, { roots: [EXAMPLES_ROOT] }), ['init', 'a', '1', 'b', '2'])
    cds.chaincodeSpec!.chaincodeID!.name = 'mycc'
    const run = await runBatch(support, [deployOf(cds)])
    expect(run.errors[0]?.message).toMatch(/^Failed to deploy chaincode spec\(chaincode name mycc does not match its NODE package and constructor: expected [0-9a-f]{128}\)$/)
  })

  it('refuses chaincode the runtime cannot run, and packages that are not modules', async () => {
    const support = await netSupport()
    const go = await runBatch(support, [devDeploy('mycc', ['init'])])
    expect(go.errors[0]?.message).toBe('Failed to deploy chaincode spec(Error starting container: the in-process (no sandbox) runtime cannot run GOLANG chaincode)')
    const notAModule = nodeDeploymentSpec('export const init = 1', ['init'])
    const run = await runBatch(support, [deployOf(notAModule)])
    expect(run.errors[0]?.message).toBe('Error starting container: a chaincode module must export functions init, invoke and query; missing: init, invoke, query')
  })

  it('relaunches a deployed chaincode from the chain after the peer restarts', async () => {
    const support = await netSupport()
    const cds = nodeDeploymentSpec(await packageChaincode(example02, { roots: [EXAMPLES_ROOT] }), ['init', 'a', '5', 'b', '6'])
    const name = cds.chaincodeSpec!.chaincodeID!.name
    await runBatch(support, [deployOf(cds)])
    await support.stopAll()
    const restarted = new ChaincodeSupport({ ledger: support.ledger, runtime: unsandboxedInProcessRuntime() })
    supports.push(restarted)
    expect(fromUtf8(await executeQuery({ support: restarted }, query(name, ['query', 'b'])))).toBe('6')
  })

  it('kills a chaincode that does not answer in time and starts it again on next use', async () => {
    const scheduler = new VirtualScheduler()
    const support = await netSupport({ scheduler, executeTimeout: 1000 })
    const source = `
      let calls = 0
      export function init () {}
      export async function invoke (stub, fn) {
        if (fn === 'stall') return await new Promise(() => {})
        await stub.putState('k', String(++calls))
      }
      export async function query (stub) { return await stub.getState('k') }`
    const cds = nodeDeploymentSpec(source, [])
    const name = cds.chaincodeSpec!.chaincodeID!.name
    await runBatch(support, [deployOf(cds), invoke(name, ['put'])])
    const batch = runBatch(support, [invoke(name, ['stall']), invoke(name, ['put'])])
    await waitFor('the stalled invoke to set its timer', () => scheduler.pending > 0, { everyMs: 1 })
    scheduler.advance(1000)
    const run = await batch
    expect(run.errors[0]?.message).toBe('Failed to execute transaction or query(Timeout expired while executing transaction)')
    // A fresh instance: its counter starts again.
    expect(run.errors[1]).toBeUndefined()
    expect(await stateOf(support.ledger, name, 'k')).toBe('1')
  })
})
