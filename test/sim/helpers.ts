// Helpers for the Fabric-case simulations: one cluster per test, Fabric-style "process" steps.
import { expect } from 'vitest'
import { decodeBatchMessage } from '../../src/consensus/pbft/messages.ts'
import { Message_Type } from '../../src/protos/fabric_pb.ts'
import { setLogLevel, type LogLevel } from '../../src/util/logger.ts'
import { SimCluster, type ClusterOptions } from './cluster.ts'
import type { Filter } from './network.ts'

setLogLevel((process.env.WEFT_SIM_LOG as LogLevel | undefined) ?? 'silent')

let current: SimCluster | undefined
export async function stopCurrent (): Promise<void> {
  await current?.stop()
  current = undefined
}

/** A started cluster (seed 1 unless given); `before` runs first, e.g. to patch one replica's config. */
export async function start (opts: Partial<ClusterOptions> = {}, before?: (c: SimCluster) => void): Promise<SimCluster> {
  const c = new SimCluster({ seed: 1, ...opts })
  before?.(c)
  current = await c.start()
  return current
}

export async function converge (c: SimCluster, txids: string[], ms = 60_000, among?: number[]): Promise<void> {
  const ok = await c.runUntil(() => c.converged(txids, among), ms)
  if (!ok) throw new Error(`seed ${c.opts.seed}: no convergence on ${txids.join(',')} within ${ms} ms virtual\n${c.describe()}`)
  expect(await c.checkSafety()).toEqual([])
}

/** Submits one transaction at a time and waits for it everywhere, like Fabric's execReqBatch + net.process(). */
export async function oneByOne (c: SimCluster, to: number, count: number, into: string[] = [], among?: number[]): Promise<string[]> {
  for (let i = 0; i < count; i++) {
    into.push(c.submit(to))
    await converge(c, into, 60_000, among)
  }
  return into
}

export const dropTo = (dst: number): Filter => (_src, d, msg) => d === dst ? [] : [msg]
export const isRequest = (msg: Parameters<Filter>[2]): boolean =>
  msg.type === Message_Type.CONSENSUS && (() => { try { return decodeBatchMessage(msg.payload).type === 'request' } catch { return false } })()

export function removable (c: SimCluster, f: Filter): () => void {
  c.net.filters.push(f)
  return () => { c.net.filters.splice(c.net.filters.indexOf(f), 1) }
}

