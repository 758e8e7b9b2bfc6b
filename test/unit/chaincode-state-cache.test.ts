// Weft's own runtimes answer a chaincode's reads from a cache of its namespace and send its writes
// with its answer (src/chaincode/cache-fields.ts). What the chaincode and the ledger see must not
// change: each scenario runs with the cache (in process and in a worker thread) and without it
// (the same shim, every read and write sent to the peer), and the transcripts must be equal.
import { afterEach, describe, expect, it } from 'vitest'
import * as example02 from '../../examples/chaincode/example02.ts'
import { workerRuntime } from '../../node/chaincode/worker-runtime.ts'
import { cacheFieldsOf } from '../../src/chaincode/cache-fields.ts'
import { executeQuery, executeTransactions } from '../../src/chaincode/executor.ts'
import { unsandboxedInProcessRuntime } from '../../src/chaincode/in-process-runtime.ts'
import { MsgType } from '../../src/chaincode/messages.ts'
import { nodeDeploymentSpec } from '../../src/chaincode/package.ts'
import type { ChaincodeRuntime } from '../../src/chaincode/runtime.ts'
import { chaincodeStreamPair, type ChaincodeStream } from '../../src/chaincode/stream.ts'
import { ChaincodeSupport } from '../../src/chaincode/support.ts'
import { fromUtf8, toHex, utf8 } from '../../src/crypto/bytes.ts'
import { StateDelta } from '../../src/ledger/state-delta.ts'
import type { Transaction } from '../../src/protos/fabric_pb.ts'
import { GoShimEmulator } from '../interop/go-shim.ts'
import { deployOf, devDeploy, invoke, newLedger, query, runBatch, type BatchRun } from './chaincode-helpers.ts'

const probe = `
const text = b => b === undefined ? 'none' : new TextDecoder().decode(b)
export function init () {}
export async function invoke (stub, fn, args) {
  switch (fn) {
    case 'put': await stub.putState(args[0], args[1]); return
    case 'del': await stub.delState(args[0]); return
    case 'get': return text(await stub.getState(args[0]))
    case 'incr': {
      const v = await stub.getState(args[0])
      const n = (v === undefined ? 0 : Number(text(v))) + 1
      await stub.putState(args[0], String(n))
      return String(n)
    }
    case 'putThenFail': await stub.putState(args[0], args[1]); throw new Error('failing after a write')
    case 'refused':
      try { await stub.putState(args[0], '') } catch (err) { return 'refused: ' + err.message }
      return 'accepted'
    case 'mutate': {
      const v = await stub.getState(args[0])
      v[0] = 0x58
      return text(await stub.getState(args[0]))
    }
    case 'range': {
      await stub.putState(args[0], args[1])
      const out = []
      for await (const kv of await stub.rangeQueryState('', '')) out.push(kv.key + '=' + text(kv.value))
      return out.sort().join(',')
    }
    case 'call':
      try { return 'callee says ' + text(await stub.invokeChaincode(args[0], args.slice(1))) } catch (err) { return 'callee failed: ' + err.message }
    case 'callThenFail':
      await stub.invokeChaincode(args[0], args.slice(1))
      throw new Error('failing after a call')
    case 'hang': for (;;) {}
    case 'crash': Promise.reject(new Error('boom')); return await new Promise(() => {})
    case 'event':
      stub.setEvent('evt', args[0])
      await stub.putState('e', args[0])
      if (args[1] === 'fail') throw new Error('event then fail')
      return
  }
  throw new Error('unknown function ' + fn)
}
export async function query (stub, fn, args) { return text(await stub.getState(args[0])) }
`
const deployA = deployOf(nodeDeploymentSpec(probe, ['init', 'A']))
const deployB = deployOf(nodeDeploymentSpec(probe, ['init', 'B']))
const A = deployA.txid
const B = deployB.txid

type Mode = 'cached' | 'uncached' | 'worker' | 'worker-uncached'

/** The same runtime, but the peer is not told the chaincode caches: it sends no cache fields, so every read and write goes to it. */
function withoutCache (runtime: ChaincodeRuntime): ChaincodeRuntime {
  return { ...runtime, launch: async req => { const l = await runtime.launch(req); return { stream: l.stream, kill: l.kill } } }
}

/** Counts what each chaincode sends the peer, by message type. */
function counting (runtime: ChaincodeRuntime, counts: Map<string, number>): ChaincodeRuntime {
  return {
    ...runtime,
    launch: async req => {
      const l = await runtime.launch(req)
      const stream: ChaincodeStream = {
        remote: l.stream.remote,
        send: async m => { await l.stream.send(m) },
        close: async err => { await l.stream.close(err) },
        recv: async () => {
          const m = await l.stream.recv()
          if (m !== undefined) counts.set(MsgType[m.type], (counts.get(MsgType[m.type]) ?? 0) + 1)
          return m
        }
      }
      return { ...l, stream }
    }
  }
}

const supports: ChaincodeSupport[] = []
afterEach(async () => { for (const s of supports.splice(0)) await s.stopAll() })

async function peer (mode: Mode, counts?: Map<string, number>, executeTimeout?: number): Promise<ChaincodeSupport> {
  let runtime = mode.startsWith('worker') ? workerRuntime({ maxMemoryMb: 64 }) : unsandboxedInProcessRuntime()
  if (mode.endsWith('uncached')) runtime = withoutCache(runtime)
  if (counts !== undefined) runtime = counting(runtime, counts)
  const support = new ChaincodeSupport({ ledger: await newLedger(), runtime, executeTimeout })
  supports.push(support)
  return support
}

/** What a batch showed the outside: errors, results, events, and the hashes. */
function seen (run: BatchRun): unknown {
  return {
    errors: run.errors.map(e => e?.message),
    results: run.results.map(r => r.result === undefined ? undefined : fromUtf8(r.result)),
    events: run.results.map(r => r.chaincodeEvent === undefined ? undefined : [r.chaincodeEvent.eventName, fromUtf8(r.chaincodeEvent.payload)]),
    txs: run.committed.block.transactions.map(t => t.txid),
    stateHash: toHex(run.committed.block.stateHash),
    blockHash: toHex(run.committed.hash)
  }
}

let n = 0
const tx = (cc: string, ...args: string[]): Transaction => invoke(cc, args, `t${++n}`)

/**
 * A batch run as the consensus executor runs one under noops: in parts of `size` transactions
 * into one ledger batch, each part told which batch it belongs to.
 */
async function runInParts (support: ChaincodeSupport, txs: Transaction[], size = 3): Promise<BatchRun> {
  const ledger = support.ledger
  const id = `batch-${ledger.height}`
  const key = {}
  const out: BatchRun = { succeeded: [], results: [], errors: [], rejections: [], committed: undefined as unknown as BatchRun['committed'] }
  ledger.beginTxBatch(id)
  for (let i = 0; i < txs.length; i += size) {
    const part = await executeTransactions({ support, onRejection: (tx, e) => out.rejections.push([tx.txid, e]) }, txs.slice(i, i + size), key)
    out.succeeded.push(...part.succeeded)
    out.results.push(...part.results)
    out.errors.push(...part.errors)
  }
  out.committed = await ledger.commitTxBatch(id, out.succeeded, out.results)
  return out
}

/** Every consistency rule of the cache in turn; returns what the outside saw. */
async function scenario (mode: Mode, inParts = false): Promise<Record<string, unknown>> {
  const run = inParts ? runInParts : runBatch
  n = 0
  const support = await peer(mode)
  const ledger = support.ledger
  const out: Record<string, unknown> = {}
  out.deploy = seen(await run(support, [deployA, deployB]))

  // A failed transaction's writes must not reach the next one; a refused write fails at its call.
  out.failures = seen(await run(support, [
    tx(A, 'put', 'k', '1'), tx(A, 'putThenFail', 'k', '2'), tx(A, 'get', 'k'),
    tx(A, 'incr', 'n'), tx(A, 'incr', 'n'), tx(A, 'refused', 'z'), tx(A, 'mutate', 'k'), tx(A, 'get', 'k'),
    tx(A, 'del', 'k'), tx(A, 'get', 'k'),
    tx(A, 'event', 'v1'), tx(A, 'event', 'v2', 'fail'), tx(A, 'get', 'e')
  ]))

  // A batch that is not committed leaves no trace in the next one.
  ledger.beginTxBatch('dropped')
  const dropped = await executeTransactions({ support }, [tx(A, 'put', 'k', '5'), tx(A, 'incr', 'n'), tx(A, 'get', 'n')])
  out.dropped = dropped.results.map(r => r.result === undefined ? undefined : fromUtf8(r.result))
  ledger.rollbackTxBatch('dropped')
  out.afterRollback = seen(await run(support, [tx(A, 'get', 'k'), tx(A, 'get', 'n'), tx(A, 'incr', 'n')]))

  // State transfer changes the namespace behind the chaincode's back.
  const delta = new StateDelta()
  delta.set(A, 'n', utf8('40'), null)
  ledger.applyStateDelta('sync', delta)
  await ledger.commitStateDelta('sync', ledger.stateBlockNumber)
  out.afterSync = seen(await run(support, [tx(A, 'incr', 'n')]))

  // Range queries and calls to other chaincodes see the writes made before them; a callee's
  // failure leaves its writes in the caller's transaction, which goes on.
  out.calls = seen(await run(support, [
    tx(A, 'range', 'r', '1'), tx(A, 'call', B, 'putThenFail', 'x', '1'), tx(B, 'get', 'x'),
    tx(A, 'call', B, 'incr', 'y'), tx(B, 'incr', 'y'), tx(A, 'call', B, 'incr', 'y'), tx(B, 'get', 'y'),
    // The caller fails after its callee completed: the callee's writes go too.
    tx(A, 'callThenFail', B, 'incr', 'y'), tx(B, 'get', 'y')
  ]))

  // A query racing a batch reads committed state only.
  const racing = run(support, Array.from({ length: 20 }, () => tx(A, 'incr', 'q')))
  const queried = await Promise.all(Array.from({ length: 5 }, async (_, i) => fromUtf8(await executeQuery({ support }, query(A, ['get', 'q'], `q${i}`)))))
  out.race = { batch: seen(await racing), queried, after: fromUtf8(await executeQuery({ support }, query(A, ['get', 'q'], 'q-after'))) }

  // A restarted chaincode starts with nothing cached.
  await support.stop(A)
  out.restart = seen(await run(support, [tx(A, 'incr', 'n'), tx(A, 'incr', 'q')]))
  return out
}

describe('the state cache of a chaincode run by a Weft runtime', () => {
  it('shows the chaincode and the ledger exactly what the round trips do', async () => {
    const uncached = await scenario('uncached')
    const cached = await scenario('cached')
    expect(cached).toEqual(uncached)
    // And what they show is right, not only equal.
    const failures = uncached.failures as { errors: unknown[], results: unknown[], events: unknown[] }
    expect(failures.errors[1]).toBe('Transaction or query returned with failure: failing after a write')
    expect(failures.results.slice(2, 5)).toEqual(['1', '1', '2'])
    expect(failures.results[5]).toBe("refused: LedgerError - InvalidArgument: An empty string key or a nil value is not supported. Method invoked with key='z', value='[]byte(nil)'")
    expect(failures.results[6]).toBe('1')
    expect(failures.results[9]).toBe('none')
    expect(failures.events.slice(10, 12)).toEqual([['evt', 'v1'], ['evt', 'v2']])
    expect(failures.results[12]).toBe('v1')
    expect(uncached.dropped).toEqual(['', '3', '3'])
    expect((uncached.afterRollback as { results: unknown[] }).results).toEqual(['none', '2', '3'])
    expect((uncached.afterSync as { results: unknown[] }).results).toEqual(['41'])
    expect((uncached.calls as { results: unknown[] }).results).toEqual([
      'e=v1,n=41,r=1', 'callee failed: failing after a write', '1', 'callee says 1', '2', 'callee says 3', '3', '', '3'
    ])
    const race = uncached.race as { queried: string[], after: string }
    expect(race.queried).toEqual(['none', 'none', 'none', 'none', 'none'])
    expect(race.after).toBe('20')
    expect((uncached.restart as { results: unknown[] }).results).toEqual(['42', '21'])
  })

  it('keeps the cache from one part of a ledger batch to the next, with the same outcome', async () => {
    const uncached = await scenario('uncached')
    expect(await scenario('cached', true)).toEqual(uncached)
    expect(await scenario('uncached', true)).toEqual(uncached)
  })

  it('behaves the same in a worker thread', async () => {
    expect(await scenario('worker')).toEqual(await scenario('uncached'))
  }, 30_000)

  it('runs the transactions sent ahead of one that hangs or crashes its thread in a restarted chaincode, as without', async () => {
    const run = async (mode: Mode): Promise<unknown> => {
      n = 0
      const support = await peer(mode, undefined, 1500)
      await runBatch(support, [deployA])
      const batch = (extra: string[]): Transaction[] => [tx(A, 'incr', 'n'), tx(A, ...extra), ...Array.from({ length: 40 }, () => tx(A, 'incr', 'n'))]
      return [seen(await runBatch(support, batch(['hang']))), seen(await runBatch(support, batch(['crash'])))]
    }
    const uncached = await run('worker-uncached')
    expect(await run('worker')).toEqual(uncached)
    const [hang, crash] = uncached as Array<{ errors: Array<string | undefined>, results: string[] }>
    expect(hang.errors[1]).toBe('Failed to execute transaction or query(Timeout expired while executing transaction)')
    expect(hang.results.at(-1)).toBe('41')
    expect(crash.errors[1]).toMatch(/^Transaction or query returned with failure: chaincode .* is gone: chaincode .* crashed: boom$/)
    expect(crash.results.at(-1)).toBe('82')
  }, 60_000)

  it('turns an invoke into one exchange once its keys are cached', async () => {
    const counts = new Map<string, number>()
    const support = await peer('cached', counts)
    await runBatch(support, [deployA])
    counts.clear()
    const run = await runBatch(support, Array.from({ length: 50 }, (_, i) => tx(A, 'incr', `k${i % 2}`)))
    expect(run.errors.every(e => e === undefined)).toBe(true)
    // One GET_STATE per key for the batch, no PUT_STATE: the writes came with COMPLETED.
    expect(Object.fromEntries(counts)).toEqual({ GET_STATE: 2, COMPLETED: 50 })
    expect(fromUtf8(await executeQuery({ support }, query(A, ['get', 'k1'])))).toBe('25')
  })

  it('asks for a key once per ledger batch, however many parts it is run in', async () => {
    const counts = new Map<string, number>()
    const support = await peer('worker', counts)
    await runBatch(support, [deployA])
    counts.clear()
    const batch = (): Transaction[] => Array.from({ length: 40 }, (_, i) => tx(A, 'incr', `k${i % 2}`))
    const first = await runInParts(support, batch(), 5)
    const second = await runInParts(support, batch(), 7)
    expect([...first.errors, ...second.errors].every(e => e === undefined)).toBe(true)
    // The second batch asks again: the first one's commit ended its session.
    expect(Object.fromEntries(counts)).toEqual({ GET_STATE: 4, COMPLETED: 80 })
    expect(fromUtf8(await executeQuery({ support }, query(A, ['get', 'k1'])))).toBe('40')
  }, 30_000)

  it('sends no Weft-only field on a stream a chaincode dialled (dev mode: Fabric\'s wire, Go shim)', async () => {
    const support = new ChaincodeSupport({ ledger: await newLedger(), userRunsChaincode: true })
    supports.push(support)
    const pair = chaincodeStreamPair()
    void support.handleStream(pair.peer)
    const shim = new GoShimEmulator(pair.chaincode, example02)
    void shim.chatWithPeer('mycc')
    await new Promise<void>(resolve => { const off = support.onRegister(() => { off(); resolve() }) })
    const run = await runBatch(support, [devDeploy('mycc', ['init', 'a', '100', 'b', '200']), invoke('mycc', ['invoke', 'a', 'b', '1'], 'T1'), invoke('mycc', ['invoke', 'a', 'b', '1'], 'T2')])
    expect(run.errors).toEqual([undefined, undefined, undefined])
    expect(shim.failure).toBeUndefined()
    expect(shim.received.filter(m => m.txid === 'T2').map(m => MsgType[m.type])).toEqual(['TRANSACTION', 'RESPONSE', 'RESPONSE', 'RESPONSE', 'RESPONSE'])
    expect(shim.received.filter(m => m.$unknown !== undefined || cacheFieldsOf(m) !== undefined)).toEqual([])
  })
})
