import { MemoryLevel } from 'memory-level'
import { levelStore } from './level.ts'
import { batchOps, OpList, type BatchOp, type KVStore } from './kv.ts'

/** An in-memory store: tests, and the in-page demo network. */
export async function memoryStore (name = 'memory'): Promise<KVStore> {
  const store = await levelStore(new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' }), name)
  // memory-level keeps the very arrays it is given: copies, as the other stores make (write's bytes may be views into a caller's larger buffers).
  return { ...store, batch: () => new OpList(), write: async ops => { await store.write(batchOps(ops).map(copyOp)) } }
}

function copyOp (op: BatchOp): BatchOp {
  return op.type === 'put' ? { type: 'put', key: op.key.slice(), value: op.value.slice() } : { type: 'del', key: op.key.slice() }
}
