import { equalBytes, fromHex, toHex } from '../crypto/bytes.ts'
import { encodeUint64 } from '../ledger/keys.ts'
import { Ledger } from '../ledger/ledger.ts'
import { StateDelta, type DeltaEntry } from '../ledger/state-delta.ts'
import type { KVStore } from '../storage/kv.ts'
import { memoryStore } from '../storage/memory.ts'
import { caseName, isObject, type CaseResult, type Obj } from './result.ts'

/**
 * A "state-hash" case, run through the real ledger on a fresh store: each batch commits as
 * one block (every op its own transaction, as Fabric's vectors were made); after each we
 * compare the state hash, the stored delta (bytes against the sorted encoding, entries
 * against Fabric's own bytes decoded), committed reads, and at the end range scans and
 * the hash a reopened ledger reports.
 */
export async function checkStateHashCase (c: unknown, openStore: (name: string) => Promise<KVStore> = memoryStore): Promise<CaseResult> {
  const name = caseName(c)
  if (!isObject(c) || !Array.isArray(c.batches) || !isObject(c.config)) return { name, ok: false, detail: 'case needs config and batches' }
  const { numBuckets, maxGroupingAtEachLevel } = c.config
  if (typeof numBuckets !== 'number' || typeof maxGroupingAtEachLevel !== 'number') return { name, ok: false, detail: 'config needs numBuckets and maxGroupingAtEachLevel' }
  const store = await openStore(name)
  const options = { numBuckets, maxGroupingAtEachLevel }
  const ledger = await Ledger.open(store, options)
  let lastHash = ''
  for (const [i, batch] of (c.batches as unknown[]).entries()) {
    if (!isObject(batch) || !Array.isArray(batch.ops)) return fail(name, `batch ${i}: needs ops`)
    ledger.beginTxBatch(i)
    for (const [j, op] of (batch.ops as unknown[]).entries()) {
      if (!isObject(op) || typeof op.chaincodeID !== 'string' || typeof op.key !== 'string') return fail(name, `batch ${i} op ${j}: needs chaincodeID and key`)
      const txid = `${i}.${j}`
      ledger.txBegin(txid)
      if (op.value_hex === null) await ledger.deleteState(op.chaincodeID, op.key)
      else if (typeof op.value_hex === 'string') await ledger.setState(op.chaincodeID, op.key, fromHex(op.value_hex))
      else return fail(name, `batch ${i} op ${j}: value_hex must be a hex string or null`)
      ledger.txFinished(txid, true)
    }
    const { block, number } = await ledger.commitTxBatch(i, [], undefined)
    lastHash = toHex(block.stateHash)
    const want = batch.state_hash_hex_after
    if (lastHash !== (want ?? '')) return fail(name, `batch ${i}: state hash ${lastHash || 'nil'}, expected ${want ?? 'nil'}`)
    const deltaProblem = await checkDelta(ledger, number, batch)
    if (deltaProblem !== undefined) return fail(name, `batch ${i}: ${deltaProblem}`)
    for (const g of Array.isArray(batch.gets_after) ? batch.gets_after : []) {
      if (!isObject(g)) continue
      const got = await ledger.getState(String(g.chaincodeID), String(g.key), true)
      const gotHex = got === null ? null : toHex(got)
      if (gotHex !== g.value_hex) return fail(name, `batch ${i}: get ${g.chaincodeID}/${g.key} = ${gotHex}, expected ${g.value_hex}`)
    }
  }
  for (const scan of Array.isArray(c.range_scans_after_last_batch) ? c.range_scans_after_last_batch : []) {
    const problem = await checkRangeScan(ledger, scan)
    if (problem !== undefined) return fail(name, problem)
  }
  const reopened = await Ledger.open(store, options)
  const reopenedHash = toHex(await reopened.getTempStateHash() ?? new Uint8Array(0))
  if (reopenedHash !== lastHash) return fail(name, `reopened ledger hashes ${reopenedHash || 'nil'}, expected ${lastHash || 'nil'}`)
  await store.close()
  return { name, ok: true }
}

function fail (name: string, detail: string): CaseResult { return { name, ok: false, detail } }

async function checkDelta (ledger: Ledger, blockNumber: number, batch: Obj): Promise<string | undefined> {
  const stored = await ledger.cols.stateDelta.get(encodeUint64(blockNumber))
  if (stored === undefined) return 'no delta stored for the block'
  if (typeof batch.state_delta_hex_sorted === 'string' && toHex(stored) !== batch.state_delta_hex_sorted) {
    return `stored delta ${toHex(stored)}, expected (sorted) ${batch.state_delta_hex_sorted}`
  }
  if (typeof batch.state_delta_hex === 'string') {
    const fabric = StateDelta.unmarshal(fromHex(batch.state_delta_hex))
    if (!sameEntries(fabric.entries(), StateDelta.unmarshal(stored).entries())) return 'delta decodes differently from Fabric\'s stored bytes'
  }
  if (Array.isArray(batch.state_delta)) {
    const want = batch.state_delta.map(e => e as Obj)
    const got = StateDelta.unmarshal(stored).entries()
    const same = want.length === got.length && want.every(w => got.some(g =>
      g.chaincodeID === w.chaincodeID && g.key === w.key && hexOrNull(g.value) === w.value_hex && hexOrNull(g.previousValue) === w.previous_value_hex))
    if (!same) return 'delta entries differ from state_delta'
  }
  return undefined
}

async function checkRangeScan (ledger: Ledger, scan: unknown): Promise<string | undefined> {
  if (!isObject(scan) || !Array.isArray(scan.results)) return 'range scan needs results'
  const got: string[] = []
  for await (const [k, v] of ledger.rangeScan(String(scan.chaincodeID), String(scan.startKey ?? ''), String(scan.endKey ?? ''), true)) got.push(`${k}=${toHex(v)}`)
  const want = scan.results.map(r => `${(r as Obj).key}=${(r as Obj).value_hex}`)
  if (got.join(',') !== want.join(',')) return `range scan ${scan.chaincodeID} [${scan.startKey}, ${scan.endKey}] gave ${got.join(',')}, expected ${want.join(',')}`
  return undefined
}

function hexOrNull (b: Uint8Array | null): string | null { return b === null ? null : toHex(b) }

function sameEntries (a: DeltaEntry[], b: DeltaEntry[]): boolean {
  const eq = (x: Uint8Array | null, y: Uint8Array | null) => x === null ? y === null : y !== null && equalBytes(x, y)
  return a.length === b.length && a.every((e, i) => e.chaincodeID === b[i].chaincodeID && e.key === b[i].key && eq(e.value, b[i].value) && eq(e.previousValue, b[i].previousValue))
}
