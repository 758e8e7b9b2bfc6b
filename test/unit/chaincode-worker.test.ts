// NODE chaincode in worker_threads: it runs, and when it throws, crashes, hangs or eats memory
// only its thread suffers; the transaction fails and the chaincode is restarted on next use.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { packageChaincode } from '../../node/chaincode/package.ts'
import { workerRuntime } from '../../node/chaincode/worker-runtime.ts'
import { executeQuery } from '../../src/chaincode/executor.ts'
import { nodeDeploymentSpec } from '../../src/chaincode/package.ts'
import { ChaincodeSupport } from '../../src/chaincode/support.ts'
import { fromUtf8 } from '../../src/crypto/bytes.ts'
import { deployOf, invoke, newLedger, query, runBatch, stateOf } from './chaincode-helpers.ts'

const misbehaving = `
let calls = 0
export function init () {}
export async function invoke (stub, fn, args) {
  switch (fn) {
    case 'put': await stub.putState(args[0], String(++calls)); return
    case 'throw': throw new Error('chaincode says no')
    case 'crash': setTimeout(() => { throw new Error('boom') }, 0); return await new Promise(() => {})
    case 'hang': for (;;) {}
    case 'oom': { const hog = []; for (;;) hog.push(new Array(100000).fill(hog.length)) }
    case 'env': await stub.putState('env', JSON.stringify(Object.keys(process.env))); return
  }
  throw new Error('unknown function ' + fn)
}
export async function query (stub, fn, args) { return (await stub.getState(args[0])) ?? 'none' }
`

let support: ChaincodeSupport
let bad: string

beforeAll(async () => {
  support = new ChaincodeSupport({ ledger: await newLedger(), runtime: workerRuntime({ maxMemoryMb: 48 }), executeTimeout: 3000 })
  const cds = nodeDeploymentSpec(misbehaving, ['init'])
  bad = cds.chaincodeSpec!.chaincodeID!.name
  const run = await runBatch(support, [deployOf(cds)])
  expect(run.errors).toEqual([undefined])
})

afterAll(async () => { await support.stopAll() })

/** The chaincode's `put` counter: 1 right after a (re)start. */
async function putCount (key: string): Promise<string | undefined> {
  const run = await runBatch(support, [invoke(bad, ['put', key])])
  expect(run.errors).toEqual([undefined])
  return await stateOf(support.ledger, bad, key)
}

describe('worker_threads runtime', () => {
  it('runs the packaged example02 in a worker', async () => {
    const cds = nodeDeploymentSpec(await packageChaincode(new URL('../../examples/chaincode/example02.ts', import.meta.url).pathname), ['init', 'a', '100', 'b', '200'])
    const name = cds.chaincodeSpec!.chaincodeID!.name
    const run = await runBatch(support, [deployOf(cds), invoke(name, ['invoke', 'b', 'a', '50'])])
    expect(run.errors).toEqual([undefined, undefined])
    expect(fromUtf8(await executeQuery({ support }, query(name, ['query', 'a'])))).toBe('150')
    await expect(executeQuery({ support }, query(name, ['query', 'zz']))).rejects.toThrow('{"Error":"Nil amount for zz"}')
  })

  it('shows the chaincode its name and nothing of the peer\'s environment', async () => {
    await runBatch(support, [invoke(bad, ['env'])])
    expect(await stateOf(support.ledger, bad, 'env')).toBe('["CORE_CHAINCODE_ID_NAME"]')
  })

  it('fails a transaction whose chaincode throws; the chaincode keeps running', async () => {
    expect(await putCount('t1')).toBe('1')
    const run = await runBatch(support, [invoke(bad, ['throw'])])
    expect(run.errors[0]?.message).toBe('Transaction or query returned with failure: chaincode says no')
    expect(await putCount('t2')).toBe('2')
  })

  it('survives a chaincode that crashes its thread, and restarts it', async () => {
    const run = await runBatch(support, [invoke(bad, ['crash'])])
    expect(run.errors[0]?.message).toMatch(/^Transaction or query returned with failure: chaincode .* is gone: chaincode .* crashed: boom$/)
    expect(await putCount('c1')).toBe('1')
  })

  it('kills a chaincode stuck in a loop after the timeout, and restarts it', async () => {
    const started = Date.now()
    const run = await runBatch(support, [invoke(bad, ['hang'])])
    expect(run.errors[0]?.message).toBe('Failed to execute transaction or query(Timeout expired while executing transaction)')
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900)
    expect(await putCount('h1')).toBe('1')
  })

  it('survives a chaincode that allocates without bound, and restarts it', async () => {
    const run = await runBatch(support, [invoke(bad, ['oom'])])
    expect(run.errors[0]?.message).toMatch(/^Transaction or query returned with failure: chaincode .* is gone: chaincode .* crashed: .*memory limit/)
    expect(await putCount('m1')).toBe('1')
    expect(fromUtf8(await executeQuery({ support }, query(bad, ['get', 'm1'])))).toBe('1')
  })
})
