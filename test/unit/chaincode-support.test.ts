import { afterEach, describe, expect, it } from 'vitest'
import * as example02 from '../../examples/chaincode/example02.ts'
import * as events from '../../examples/chaincode/events.ts'
import * as mapcc from '../../examples/chaincode/map.ts'
import { executeQuery } from '../../src/chaincode/executor.ts'
import { registerInProcessChaincode } from '../../src/chaincode/in-process-runtime.ts'
import type { Chaincode, ChaincodeStub } from '../../src/chaincode/shim/index.ts'
import { ChaincodeSupport } from '../../src/chaincode/support.ts'
import { fromUtf8 } from '../../src/crypto/bytes.ts'
import { Transaction_Type } from '../../src/protos/fabric_pb.ts'
import { devDeploy, invoke, newLedger, query, runBatch, stateOf } from './chaincode-helpers.ts'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0)) await c() })

async function devPeer (chaincodes: Record<string, Chaincode>): Promise<ChaincodeSupport> {
  const support = new ChaincodeSupport({ ledger: await newLedger(), userRunsChaincode: true })
  for (const [name, cc] of Object.entries(chaincodes)) {
    const r = await registerInProcessChaincode(support, name, cc)
    cleanups.push(r.stop)
  }
  cleanups.push(async () => { await support.stopAll() })
  return support
}

const q = async (support: ChaincodeSupport, name: string, args: string[]): Promise<string> =>
  fromUtf8(await executeQuery({ support }, query(name, args)))

describe('chaincode_example02 in dev mode', () => {
  it('deploys with INIT, transfers, queries and deletes with Fabric\'s values', async () => {
    const support = await devPeer({ mycc: example02 })
    const b1 = await runBatch(support, [devDeploy('mycc', ['init', 'a', '100', 'b', '200'])])
    expect(b1.errors).toEqual([undefined])
    expect(await stateOf(support.ledger, 'mycc', 'a')).toBe('100')
    expect(await stateOf(support.ledger, 'mycc', 'b')).toBe('200')

    await runBatch(support, [invoke('mycc', ['invoke', 'a', 'b', '10']), invoke('mycc', ['invoke', 'a', 'a', '5'])])
    expect(await q(support, 'mycc', ['query', 'a'])).toBe('95')
    expect(await q(support, 'mycc', ['query', 'b'])).toBe('210')

    await runBatch(support, [invoke('mycc', ['delete', 'a'])])
    await expect(q(support, 'mycc', ['query', 'a'])).rejects.toThrow('Transaction or query returned with failure: {"Error":"Nil amount for a"}')
  })

  it('rejects failed transactions with Fabric\'s error texts, leaving state and block untouched', async () => {
    const support = await devPeer({ mycc: example02 })
    await runBatch(support, [devDeploy('mycc', ['init', 'a', '100', 'b', '200'])])
    const good = invoke('mycc', ['invoke', 'a', 'b', '1'])
    const run = await runBatch(support, [
      invoke('mycc', ['invoke', 'a', 'nobody', '1']),
      invoke('mycc', ['invoke', 'a', 'b', 'x']),
      good,
      invoke('mycc', ['invoke', 'a', 'b'])
    ])
    expect(run.errors.map(e => e?.message)).toEqual([
      'Transaction or query returned with failure: Entity not found',
      'Transaction or query returned with failure: Invalid transaction amount, expecting a integer value',
      undefined,
      'Transaction or query returned with failure: Incorrect number of arguments. Expecting 3'
    ])
    expect(run.rejections.map(r => r[1])).toEqual(run.errors.filter(e => e !== undefined).map(e => e!.message))
    expect(run.committed.block.transactions.map(t => t.txid)).toEqual([good.txid])
    expect(run.committed.block.nonHashData?.chaincodeEvents).toHaveLength(4)
    expect(run.results.map(r => r.errorCode)).toEqual([1, 1, 0, 1])
    expect(await stateOf(support.ledger, 'mycc', 'a')).toBe('99')
    expect(await stateOf(support.ledger, 'mycc', 'b')).toBe('201')
  })

  it('fails a deploy whose INIT fails, and writes nothing', async () => {
    const support = await devPeer({ mycc: example02 })
    const run = await runBatch(support, [devDeploy('mycc', ['init', 'a', '100', 'b'])])
    expect(run.errors[0]?.message).toBe('Failed to init chaincode(Error initializing container mycc: Incorrect number of arguments. Expecting 4)')
    expect(run.committed.block.transactions).toHaveLength(0)
    expect(run.committed.block.stateHash).toHaveLength(0)
    // Like Fabric, the chaincode is deregistered; a user-run chaincode has to be restarted.
    expect(support.registered()).toEqual([])
  })

  it('needs the chaincode registered and deployed, as Fabric does', async () => {
    const support = await devPeer({ mycc: example02 })
    const notDeployed = await runBatch(support, [invoke('mycc', ['invoke', 'a', 'b', '1'])])
    expect(notDeployed.errors[0]?.message).toBe('Failed to launch chaincode spec(Could not get deployment transaction for mycc - LedgerError - ResourceNotFound: ledger: resource not found)')
    const notRegistered = await runBatch(support, [devDeploy('other', ['init'])])
    expect(notRegistered.errors[0]?.message).toBe('Failed to init chaincode(handler not found for chaincode other)')
  })

  it('sends READY instead of INIT for a constructor without args, and READY again after the peer restarts', async () => {
    const support = await devPeer({ map: mapcc })
    const run = await runBatch(support, [devDeploy('map', []), invoke('map', ['put', 'k', 'v'])])
    expect(run.errors).toEqual([undefined, undefined])
    expect(await q(support, 'map', ['get', 'k'])).toBe('v')

    // A second peer process over the same ledger: the deployment comes from the chain.
    const restarted = new ChaincodeSupport({ ledger: support.ledger, userRunsChaincode: true })
    await support.stopAll()
    const r = await registerInProcessChaincode(restarted, 'map', mapcc)
    cleanups.push(r.stop)
    expect(await q(restarted, 'map', ['get', 'k'])).toBe('v')
  })

  it('refuses a terminate transaction as Fabric 0.6.1 does', async () => {
    const support = await devPeer({ mycc: example02 })
    const tx = invoke('mycc', ['x'])
    tx.type = Transaction_Type.CHAINCODE_TERMINATE
    const run = await runBatch(support, [tx])
    expect(run.errors[0]?.message).toBe('Invalid transaction type CHAINCODE_TERMINATE')
  })
})

describe('state access rules', () => {
  it('refuses writes during a query, in the shim and at the peer', async () => {
    const sneaky: Chaincode = {
      init: () => {},
      invoke: async (stub) => { await stub.putState('k', 'v') },
      query: async (stub) => { await stub.putState('k', 'from-query'); return 'wrote' }
    }
    const support = await devPeer({ sneaky })
    await runBatch(support, [devDeploy('sneaky', []), invoke('sneaky', ['go'])])
    await expect(q(support, 'sneaky', ['go'])).rejects.toThrow('Cannot put state in query context')
    expect(await stateOf(support.ledger, 'sneaky', 'k')).toBe('v')
  })

  it('queries read committed state; transactions read their own and the batch\'s writes', async () => {
    const seen: string[] = []
    const reader: Chaincode = {
      init: () => {},
      invoke: async (stub, fn) => {
        if (fn === 'set') await stub.putState('k', 'new')
        seen.push(fromUtf8((await stub.getState('k')) ?? new Uint8Array(0)))
      },
      query: async (stub) => (await stub.getState('k')) ?? 'none'
    }
    const support = await devPeer({ reader })
    await runBatch(support, [devDeploy('reader', [])])
    const ledger = support.ledger
    ledger.beginTxBatch('open')
    const { executeTransactions } = await import('../../src/chaincode/executor.ts')
    await executeTransactions({ support }, [invoke('reader', ['set']), invoke('reader', ['get'])])
    expect(seen).toEqual(['new', 'new'])
    expect(await q(support, 'reader', ['get'])).toBe('none')
    ledger.rollbackTxBatch('open')
  })

  it('refuses an empty value as Fabric\'s ledger does', async () => {
    const empty: Chaincode = { init: () => {}, invoke: async (stub) => { await stub.putState('k', '') }, query: () => '' }
    const support = await devPeer({ empty })
    const run = await runBatch(support, [devDeploy('empty', []), invoke('empty', ['x'])])
    expect(run.errors[1]?.message).toBe("Transaction or query returned with failure: LedgerError - InvalidArgument: An empty string key or a nil value is not supported. Method invoked with key='k', value='[]byte(nil)'")
  })

  it('pages range queries 100 keys at a time, in the ledger\'s order', async () => {
    const support = await devPeer({ map: mapcc })
    const keys = Array.from({ length: 250 }, (_, i) => `key${i}`)
    await runBatch(support, [devDeploy('map', []), ...keys.map(k => invoke('map', ['put', k, 'v']))])
    const listed = JSON.parse(await q(support, 'map', ['keys'])) as string[]
    const expected: string[] = []
    for await (const [k] of support.ledger.rangeScan('map', '', '', true)) expected.push(k)
    expect(listed).toEqual(expected)
    expect([...listed].sort()).toEqual([...keys].sort())
  })

  it('answers the map example\'s empty keys query as Go\'s json.Marshal(nil)', async () => {
    const support = await devPeer({ map: mapcc })
    await runBatch(support, [devDeploy('map', [])])
    expect(await q(support, 'map', ['keys'])).toBe('null')
  })
})

describe('chaincode calling chaincode', () => {
  const caller: Chaincode = {
    init: () => {},
    invoke: async (stub: ChaincodeStub, fn, args) => {
      await stub.putState('calls', 'one')
      await stub.invokeChaincode('mycc', ['invoke', ...args])
      if (fn === 'fail-after') throw new Error('caller changed its mind')
    },
    query: async (stub: ChaincodeStub, _fn, args) => await stub.queryChaincode('mycc', ['query', ...args])
  }

  it('shares the transaction: both chaincodes\' writes commit or neither does', async () => {
    const support = await devPeer({ mycc: example02, caller })
    await runBatch(support, [devDeploy('mycc', ['init', 'a', '100', 'b', '200']), devDeploy('caller', [])])
    const run = await runBatch(support, [invoke('caller', ['ok', 'a', 'b', '7']), invoke('caller', ['fail-after', 'a', 'b', '50'])])
    expect(run.errors[0]).toBeUndefined()
    expect(run.errors[1]?.message).toBe('Transaction or query returned with failure: caller changed its mind')
    expect(await stateOf(support.ledger, 'mycc', 'a')).toBe('93')
    expect(await stateOf(support.ledger, 'caller', 'calls')).toBe('one')
    expect(await q(support, 'caller', ['query', 'b'])).toBe('207')
  })

  it('reports the callee\'s failure to the caller', async () => {
    const support = await devPeer({ mycc: example02, caller })
    await runBatch(support, [devDeploy('mycc', ['init', 'a', '100', 'b', '200']), devDeploy('caller', [])])
    const run = await runBatch(support, [invoke('caller', ['ok', 'a', 'zz', '1'])])
    expect(run.errors[0]?.message).toBe('Transaction or query returned with failure: Entity not found')
    await expect(q(support, 'caller', ['query', 'zz'])).rejects.toThrow('{"Error":"Nil amount for zz"}')
  })
})

describe('chaincode calling itself', () => {
  it('is refused (the txid is already in flight on it) instead of waiting for itself', async () => {
    const selfish: Chaincode = {
      init: async (stub) => {
        try {
          await stub.invokeChaincode('selfish', ['again'])
        } catch (err) {
          await stub.putState('refused', (err as Error).message)
        }
      },
      invoke: () => {},
      query: () => ''
    }
    const support = await devPeer({ selfish })
    const run = await runBatch(support, [devDeploy('selfish', ['init'])])
    expect(run.errors).toEqual([undefined])
    expect(await stateOf(support.ledger, 'selfish', 'refused')).toBe('Error sending TRANSACTION: txid:selfish exists')
  })
})

describe('chaincode events', () => {
  it('returns one event per transaction, stamped with chaincode and txid, into the block', async () => {
    const support = await devPeer({ evt: events })
    await runBatch(support, [devDeploy('evt', ['init'])])
    const t1 = invoke('evt', ['send', 'x', 'y'])
    const run = await runBatch(support, [t1, invoke('evt', ['send'])])
    const ev = run.results.map(r => r.chaincodeEvent!)
    expect(ev.map(e => [e.chaincodeID, e.eventName, fromUtf8(e.payload)])).toEqual([['evt', 'evtsender', 'Event 0,x,y'], ['evt', 'evtsender', 'Event 1']])
    expect(ev[0].txID).toBe(t1.txid)
    expect(run.committed.block.nonHashData?.chaincodeEvents.map(e => e.eventName)).toEqual(['evtsender', 'evtsender'])
    expect(await q(support, 'evt', [])).toBe('{"NoEvents":"2"}')
  })
})
