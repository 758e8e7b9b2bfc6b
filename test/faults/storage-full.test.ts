// Disk full, simulated through the storage interface: a block whose write fails is not committed
// (no partial block, nothing of it in the state), the error says what happened, a client waiting
// for the transaction hears it, and once the disk has room again the peer commits on, with the
// same state hash as a peer that never saw the fault.
import { create } from '@bufbuild/protobuf'
import { afterEach, describe, expect, it } from 'vitest'
import { unsandboxedInProcessRuntime } from '../../src/chaincode/in-process-runtime.ts'
import { nodeDeploymentSpec } from '../../src/chaincode/package.ts'
import { loadConfig } from '../../src/config/index.ts'
import { fromUtf8, toHex, utf8 } from '../../src/crypto/bytes.ts'
import { blockHash } from '../../src/ledger/block.ts'
import { PeerNode } from '../../src/peer-node.ts'
import { ChaincodeInvocationSpecSchema, ChaincodeSpec_Type } from '../../src/protos/chaincode_pb.ts'
import { StorageError, type KVStore } from '../../src/storage/kv.ts'
import { memoryStore } from '../../src/storage/memory.ts'
import { MemoryNetwork } from '../../src/transport/memory.ts'
import { systemRandom, systemScheduler } from '../../src/util/scheduler.ts'
import { captureLogs } from '../helpers/logs.ts'

const source = `
export function init (stub, fn, args) { return stub.putState('n', '0') }
export async function invoke (stub) { const n = Number(new TextDecoder().decode(await stub.getState('n'))); await stub.putState('n', String(n + 1)); await stub.putState('k' + n, 'v') }
export async function query (stub) { return await stub.getState('n') }
`

/** A store whose writes fail with ENOSPC while `full` is set. */
function fillable (inner: KVStore): KVStore & { full: boolean } {
  const s = {
    full: false,
    location: inner.location,
    get: inner.get.bind(inner),
    getMany: inner.getMany.bind(inner),
    entries: inner.entries.bind(inner),
    readRanges: inner.readRanges.bind(inner),
    close: inner.close.bind(inner),
    batch: inner.batch.bind(inner),
    async write (ops: Parameters<KVStore['write']>[0]) {
      if (s.full) throw new StorageError('IO', `write to database ${inner.location} failed: ENOSPC: no space left on device`)
      await inner.write(ops)
    }
  }
  return s
}

const nodes: PeerNode[] = []
let logs: ReturnType<typeof captureLogs> | undefined
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop()
  logs?.restore()
})

async function node (store: KVStore): Promise<PeerNode> {
  const config = loadConfig({ env: { CORE_PEER_ID: 'vp0', CORE_NOOPS_BLOCK_WAIT: '0', CORE_LEDGER_STATE_DATASTRUCTURE_CONFIGS_NUMBUCKETS: '1009' } })
  const n = await PeerNode.create(config, {
    store,
    transports: [new MemoryNetwork().transport('vp0')],
    scheduler: systemScheduler,
    random: systemRandom,
    chaincodeRuntime: unsandboxedInProcessRuntime(),
    packageChaincode: async () => utf8(source)
  })
  nodes.push(n)
  await n.start()
  return n
}

const invocation = (name: string) => create(ChaincodeInvocationSpecSchema, { chaincodeSpec: { type: ChaincodeSpec_Type.NODE, chaincodeID: { name }, ctorMsg: { args: [utf8('inc')] } } })

describe('disk full', () => {
  it('commits no partial block, says why, and commits on once there is room', async () => {
    logs = captureLogs()
    const store = fillable(await memoryStore())
    const peer = await node(store)
    const name = nodeDeploymentSpec(source, ['init']).chaincodeSpec!.chaincodeID!.name
    await peer.deploy({ type: ChaincodeSpec_Type.NODE, chaincodeID: { path: 'x' }, ctorMsg: { args: [utf8('init')] } } as never, { waitMs: 10_000 })
    await peer.invoke(invocation(name), { waitMs: 10_000 })
    const before = await peer.getBlockchainInfo()

    store.full = true
    await expect(peer.invoke(invocation(name), { waitMs: 2000 })).rejects.toThrow(/not in the chain after 2000 ms|ENOSPC/)
    // The operator's error log is where the cause shows: the client only hears its transaction is not in a block.
    expect(logs.lines.some(l => l.level === 'error' && /ENOSPC: no space left on device/.test(l.msg))).toBe(true)
    const during = await peer.getBlockchainInfo()
    expect(during.height).toBe(before.height)
    expect(toHex(during.currentBlockHash)).toBe(toHex(before.currentBlockHash))
    expect(fromUtf8((await peer.query(invocation(name))).msg)).toBe('1')

    store.full = false
    await peer.invoke(invocation(name), { waitMs: 10_000 })
    expect(fromUtf8((await peer.query(invocation(name))).msg)).toBe('2')
    const after = await peer.getBlockchainInfo()
    expect(after.height).toBe(before.height + 1n)

    // The same history on a store that never filled up gives the same state hash.
    const clean = await node(await memoryStore())
    await clean.deploy({ type: ChaincodeSpec_Type.NODE, chaincodeID: { path: 'x' }, ctorMsg: { args: [utf8('init')] } } as never, { waitMs: 10_000 })
    await clean.invoke(invocation(name), { waitMs: 10_000 })
    await clean.invoke(invocation(name), { waitMs: 10_000 })
    const last = async (n: PeerNode) => toHex((await n.getBlockByNumber((await n.getBlockchainInfo()).height - 1n))!.stateHash)
    expect(await last(peer)).toBe(await last(clean))

    // And the stored chain links up through the refused write.
    for (let n = 1n; n < after.height; n++) {
      expect(toHex((await peer.getBlockByNumber(n))!.previousBlockHash)).toBe(toHex(blockHash((await peer.getBlockByNumber(n - 1n))!)))
    }
  }, 60_000)
})
