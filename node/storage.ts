import { ClassicLevel } from 'classic-level'
import { mkdir } from 'node:fs/promises'
import { levelStore } from '../src/storage/level.ts'
import type { KVStore } from '../src/storage/kv.ts'

/**
 * LevelDB's memtable: 1 MiB instead of 4. The memtable being filled and the one being flushed are
 * both resident, so this keeps 6 MiB of the peer's 150 MB (node/peer/memory-limits.ts) and makes
 * the tables a flush writes smaller. Commit speed did not change in the ledger bench.
 */
const WRITE_BUFFER_SIZE = 1 << 20

const MAX_FILE_SIZE = 1 << 20

/** The Node peer's LevelDB, in `dir` (Fabric: peer.fileSystemPath + /db). */
export async function openLevelDB (dir: string): Promise<KVStore> {
  await mkdir(dir, { recursive: true })
  return levelStore(new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view', writeBufferSize: WRITE_BUFFER_SIZE, maxFileSize: MAX_FILE_SIZE }), dir)
}
