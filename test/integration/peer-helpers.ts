// Shared by the peer tests: ledgers with chains built fast, and peers and whole PeerNodes on a
// memory network.
import { create } from '@bufbuild/protobuf'
import { unsandboxedInProcessRuntime } from '../../src/chaincode/in-process-runtime.ts'
import { loadConfig, withOverrides, type ConfigOverrides } from '../../src/config/index.ts'
import { utf8 } from '../../src/crypto/bytes.ts'
import { Ledger, makeGenesis } from '../../src/ledger/ledger.ts'
import { PeerNode } from '../../src/peer-node.ts'
import type { PeerPlatform } from '../../src/peer-platform.ts'
import { TransactionSchema, Transaction_Type } from '../../src/protos/fabric_pb.ts'
import { memoryStore } from '../../src/storage/index.ts'
import { createPeer, type Peer, type PeerComponents } from '../../src/peer/peer.ts'
import type { PeerInit } from '../../src/peer/peer-config.ts'
import { MemoryNetwork } from '../../src/transport/memory.ts'
import { seededRandom, systemScheduler } from '../../src/util/scheduler.ts'

/** Small bucket tree: fast, and every peer of a test uses the same one. */
export const ledgerOptions = { numBuckets: 1009, maxGroupingAtEachLevel: 10, deltaHistorySize: 500 }

export async function newLedger (opts: { deltaHistorySize?: number } = {}): Promise<Ledger> {
  const ledger = await Ledger.open(await memoryStore(), { ...ledgerOptions, ...opts, scheduler: { now: () => 1_700_000_000_000 } })
  await makeGenesis(ledger)
  return ledger
}

/** Appends `count` blocks of one transaction each; block i sets key k<i mod keys> and deletes now and then. */
export async function commitBlocks (ledger: Ledger, count: number, opts: { keys?: number, tag?: string } = {}): Promise<void> {
  const keys = opts.keys ?? 50
  const tag = opts.tag ?? 'v'
  for (let i = 0; i < count; i++) {
    const n = ledger.height
    const txid = `${tag}-tx-${n}`
    ledger.beginTxBatch(n)
    ledger.txBegin(txid)
    await ledger.setState('mycc', `k${n % keys}`, utf8(`${tag}${n}`))
    if (n % 7 === 0) await ledger.deleteState('mycc', `k${(n + 3) % keys}`)
    ledger.txFinished(txid, true)
    const tx = create(TransactionSchema, { type: Transaction_Type.CHAINCODE_INVOKE, txid, payload: utf8(`invoke ${n}`) })
    await ledger.commitTxBatch(n, [tx], undefined)
  }
}

/** Quiet defaults for tests: no touch service, slow discovery ticks unless asked. */
export function testInit (id: string, over: Partial<PeerInit> = {}): PeerInit {
  return { id, address: id, validator: true, ...over, discovery: { period: 60_000, touchPeriod: 0, ...over.discovery } }
}

/** A peer listening on `net` at its id. */
export async function memoryPeer (net: MemoryNetwork, id: string, over: Partial<PeerInit> = {}, components: Partial<PeerComponents> = {}): Promise<Peer> {
  const ledger = components.ledger ?? await newLedger()
  const peer = createPeer(testInit(id, over), { ledger, dialer: net.dialer(id), random: seededRandom(7), ...components })
  net.listen(id, peer)
  await peer.start()
  return peer
}

/**
 * A PeerNode reached at `id` on `net`, on test settings (small bucket tree, nothing persisted,
 * no touch service, chaincode in-process) under `overrides`; created, not started.
 */
export async function memoryNode (net: MemoryNetwork, id: string, overrides: ConfigOverrides = {}, platform: Partial<PeerPlatform> = {}): Promise<PeerNode> {
  const quiet = withOverrides(loadConfig(), {
    peer: { id, networkId: 'test', discovery: { persist: false, touchPeriod: 0 } },
    ledger: { state: { dataStructure: { configs: { numBuckets: ledgerOptions.numBuckets, maxGroupingAtEachLevel: ledgerOptions.maxGroupingAtEachLevel } } } },
    rest: { enabled: false },
    web: { enabled: false }
  })
  return await PeerNode.create(withOverrides(quiet, overrides), {
    store: await memoryStore(),
    transports: [net.transport(id)],
    scheduler: systemScheduler,
    random: seededRandom(7),
    chaincodeRuntime: unsandboxedInProcessRuntime(),
    ...platform
  })
}
