// NODE chaincode in worker_threads: it runs, and when it throws, crashes, hangs or eats memory
// only its thread suffers; the transaction fails and the chaincode is restarted on next use.
// It is confined: every way out to the host is refused with an error, and the peer goes on.
import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXAMPLES_ROOT, packageChaincode } from '../../node/chaincode/package.ts'
import { workerRuntime } from '../../node/chaincode/worker-runtime.ts'
import { executeQuery } from '../../src/chaincode/executor.ts'
import { nodeDeploymentSpec } from '../../src/chaincode/package.ts'
import { ChaincodeSupport } from '../../src/chaincode/support.ts'
import { fromUtf8 } from '../../src/crypto/bytes.ts'
import { deployOf, invoke, newLedger, query, runBatch, stateOf } from './chaincode-helpers.ts'

const misbehaving = `
let calls = 0
const escapes = {
  process: () => process.binding('fs'),
  require: () => require('node:fs').writeFileSync('/tmp/weft-escaped', 'x'),
  globalCtor: () => globalThis.constructor.constructor('return process')(),
  fnCtor: () => (function () {}).constructor('return process')(),
  asyncCtor: async () => await (async function () {}).constructor('return process')(),
  stubCtor: () => escapes.constructor.constructor('return process')(),
  fnGlobal: () => Function('return typeof process + typeof fetch + typeof setTimeout')(),
  eval: () => (0, eval)('process.pid'),
  wasm: () => new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])),
  protoPoison: () => { Object.prototype.polluted = 'yes'; return ({}).polluted },
  arrayPoison: () => { Array.prototype.push = () => 0; return [].push(1) },
  fetch: () => fetch('http://127.0.0.1:1/'),
  timers: () => setTimeout(() => {}, 0),
  clock: () => Date.now(),
  random: () => Math.random(),
  globals: () => Object.getOwnPropertyNames(globalThis).filter(n => !/^[A-Z]/.test(n)).join(',')
}
export function init () {}
export async function invoke (stub, fn, args) {
  switch (fn) {
    case 'put': await stub.putState(args[0], String(++calls)); return
    case 'throw': throw new Error('chaincode says no')
    case 'crash': Promise.reject(new Error('boom')); return await new Promise(() => {})
    case 'hang': for (;;) {}
    case 'oom': { const hog = []; for (;;) hog.push(new Array(100000).fill(hog.length)) }
    case 'escape': {
      let outcome
      try { outcome = 'ran: ' + String(await escapes[args[0]]()) } catch (err) { outcome = err.name + ': ' + err.message }
      await stub.putState('escape-' + args[0], outcome)
      return
    }
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
    const cds = nodeDeploymentSpec(await packageChaincode(new URL('../../examples/chaincode/example02.ts', import.meta.url).pathname, { roots: [EXAMPLES_ROOT] }), ['init', 'a', '100', 'b', '200'])
    const name = cds.chaincodeSpec!.chaincodeID!.name
    const run = await runBatch(support, [deployOf(cds), invoke(name, ['invoke', 'b', 'a', '50'])])
    expect(run.errors).toEqual([undefined, undefined])
    expect(fromUtf8(await executeQuery({ support }, query(name, ['query', 'a'])))).toBe('150')
    await expect(executeQuery({ support }, query(name, ['query', 'zz']))).rejects.toThrow('{"Error":"Nil amount for zz"}')
  })

  it('answers the deploy of a chaincode that throws while loading with its error', async () => {
    const cds = nodeDeploymentSpec(`throw new Error('config file missing')
      export function init () {}
      export function invoke () {}
      export function query () {}`, [])
    const run = await runBatch(support, [deployOf(cds)])
    expect(run.errors[0]?.message).toMatch(/registration failed for .*: chaincode .* crashed: .*config file missing/)
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

  it('refuses every way out of the sandbox with an error, and the chaincode goes on', async () => {
    const before = Number(await putCount('e0'))
    const tries = ['process', 'require', 'globalCtor', 'fnCtor', 'asyncCtor', 'stubCtor', 'fnGlobal', 'eval', 'wasm',
      'protoPoison', 'arrayPoison', 'fetch', 'timers', 'clock', 'random', 'globals']
    const run = await runBatch(support, tries.map(t => invoke(bad, ['escape', t])))
    expect(run.errors).toEqual(tries.map(() => undefined))
    const outcome: Record<string, string | undefined> = {}
    for (const t of tries) outcome[t] = await stateOf(support.ledger, bad, `escape-${t}`)
    expect(outcome).toEqual({
      process: expect.stringMatching(/^(TypeError|ReferenceError): /),
      require: expect.stringMatching(/^(TypeError|ReferenceError): /),
      globalCtor: 'TypeError: Function.prototype.constructor is not a valid constructor.',
      fnCtor: 'TypeError: Function.prototype.constructor is not a valid constructor.',
      asyncCtor: 'TypeError: Function.prototype.constructor is not a valid constructor.',
      stubCtor: 'TypeError: Function.prototype.constructor is not a valid constructor.',
      fnGlobal: 'ran: undefinedundefinedundefined',
      eval: expect.stringMatching(/^(TypeError|ReferenceError): /),
      wasm: expect.stringMatching(/^TypeError: /),
      protoPoison: expect.stringMatching(/^TypeError: Cannot add property polluted, object is not extensible/),
      arrayPoison: expect.stringMatching(/^TypeError: Cannot assign to read only property 'push'/),
      fetch: expect.stringMatching(/^(TypeError|ReferenceError): /),
      timers: expect.stringMatching(/^(TypeError|ReferenceError): /),
      clock: expect.stringMatching(/^TypeError: secure mode/),
      random: expect.stringMatching(/^TypeError: secure mode/),
      globals: 'ran: undefined,isFinite,isNaN,parseFloat,parseInt,decodeURI,decodeURIComponent,encodeURI,encodeURIComponent,escape,unescape,lockdown,harden,globalThis,eval,console'
    })
    expect(existsSync('/tmp/weft-escaped')).toBe(false)
    expect(await putCount('e1')).toBe(String(before + 1))
  })

  it.each([
    ['import fs from \'node:fs\'\nexport function init () {}', "it imports 'node:fs'"],
    ['export * from \'node:fs\'', "it re-exports from 'node:fs'"],
    ['export { readFile } from \'node:fs\'', "it re-exports from 'node:fs'"],
    ['export async function init () { return await import(\'node:fs\') }', 'it calls import()'],
    ['export const init = () => import.meta.url', 'it reads import.meta'],
    ['export function init () {', 'its source does not parse as an ES module: Unexpected token (1:25)']
  ])('refuses to deploy a package that imports or does not parse: %s', async (source, reason) => {
    const run = await runBatch(support, [deployOf(nodeDeploymentSpec(source, ['init']))])
    expect(run.errors[0]?.message).toContain(`chaincode refused: ${reason}`)
  })

  it('understands every way a module exports its functions', async () => {
    const source = `
const impl = { async init () {}, async invoke (stub, fn, args) { await stub.putState(args[0], fn) } }
export const { init } = impl
const invoke = impl.invoke
export { invoke }
export default { query: async () => 'via default' }
export function query () { return 'named' }
`
    const cds = nodeDeploymentSpec(source, [])
    const name = cds.chaincodeSpec!.chaincodeID!.name
    const run = await runBatch(support, [deployOf(cds), invoke(name, ['set', 'k'])])
    expect(run.errors).toEqual([undefined, undefined])
    expect(await stateOf(support.ledger, name, 'k')).toBe('set')
    expect(fromUtf8(await executeQuery({ support }, query(name, ['x'])))).toBe('named')
  })
})
