import { ClassicLevel } from 'classic-level'
import { mkdir } from 'node:fs/promises'
import { levelStore } from '../src/storage/level.ts'
import type { KVStore } from '../src/storage/kv.ts'

/** The Node peer's LevelDB, in `dir` (Fabric: peer.fileSystemPath + /db). */
export async function openLevelDB (dir: string): Promise<KVStore> {
  await mkdir(dir, { recursive: true })
  return levelStore(new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' }), dir)
}
