import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { RawStore } from '../../src/security/keystore.ts'
import type { MemberKind } from '../../src/security/member.ts'

/** Members' key files where Fabric keeps them: peer.fileSystemPath/crypto/<kind>/<name>/ks/raw/<alias>, mode 0700. */
export function memberFiles (fileSystemPath: string): RawStore {
  const dir = (kind: MemberKind, name: string): string => join(fileSystemPath, 'crypto', kind, name)
  const raw = (kind: MemberKind, name: string): string => join(dir(kind, name), 'ks', 'raw')
  return {
    async read (kind, name, alias) {
      try {
        return await readFile(join(raw(kind, name), alias), 'utf8')
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw err
      }
    },
    async write (kind, name, alias, text) {
      await mkdir(raw(kind, name), { recursive: true, mode: 0o700 })
      await writeFile(join(raw(kind, name), alias), text, { mode: 0o700 })
    },
    async has (kind, name) {
      try {
        await stat(dir(kind, name))
        return true
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
        throw err
      }
    },
    async remove (kind, name) { await rm(dir(kind, name), { recursive: true, force: true }) },
    missing: (kind, name, alias) => `open ${join(raw(kind, name), alias)}: no such file or directory`
  }
}
