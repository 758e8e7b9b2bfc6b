import type { RawStore } from './keystore.ts'

/**
 * Members' key files in a map, for members that live as long as the process (the demo's, a
 * test's). A missing file is reported as Go's open error on `<root>crypto/…/ks/raw/<alias>`,
 * followed by `where`.
 */
export function memoryRawStore (root: string, where = ''): RawStore {
  const files = new Map<string, string>()
  const dir = (kind: string, name: string): string => `${root}crypto/${kind}/${name}/ks/raw/`
  const under = (prefix: string): string[] => [...files.keys()].filter(k => k.startsWith(prefix))
  return {
    read: async (kind, name, alias) => files.get(dir(kind, name) + alias),
    write: async (kind, name, alias, text) => { files.set(dir(kind, name) + alias, text) },
    has: async (kind, name) => under(dir(kind, name)).length > 0,
    remove: async (kind, name) => { for (const k of under(dir(kind, name))) files.delete(k) },
    missing: (kind, name, alias) => `open ${dir(kind, name)}${alias}: no such file or directory${where}`
  }
}
