// Members' key files in the tab: what Fabric keeps under crypto/<kind>/<name>/ks/raw/ lives in
// IndexedDB (idb-keyval, its own database), one key per file, per browser peer slot. The private
// keys are written and read here only; nothing in this file sends them anywhere.
import { createStore, delMany, get, keys, set } from 'idb-keyval'
import type { RawStore } from '../../src/security/keystore.ts'
import type { MemberKind } from '../../src/security/member.ts'

const db = (): ReturnType<typeof createStore> => createStore('weft-members', 'raw')

/** The slot's key files, and the names of the members it holds. */
export interface TabMemberStore extends RawStore {
  /** Members of `kind` enrolled in this slot, by enrollment id. */
  names (kind: MemberKind): Promise<string[]>
}

export function tabMemberStore (slot: number): TabMemberStore {
  const store = db()
  const dir = (kind: MemberKind, name: string): string => `${slot}/crypto/${kind}/${name}/ks/raw/`
  const under = async (prefix: string): Promise<string[]> => (await keys<string>(store)).filter(k => typeof k === 'string' && k.startsWith(prefix))
  return {
    read: async (kind, name, alias) => await get<string>(dir(kind, name) + alias, store),
    write: async (kind, name, alias, text) => { await set(dir(kind, name) + alias, text, store) },
    has: async (kind, name) => (await under(dir(kind, name))).length > 0,
    remove: async (kind, name) => { await delMany(await under(dir(kind, name)), store) },
    missing: (kind, name, alias) => `open crypto/${kind}/${name}/ks/raw/${alias}: no such file or directory (IndexedDB weft-members, slot ${slot})`,
    async names (kind) {
      const prefix = `${slot}/crypto/${kind}/`
      const ids = (await under(prefix)).filter(k => k.endsWith('/ks/raw/enrollment.id'))
      return ids.map(k => k.slice(prefix.length, -'/ks/raw/enrollment.id'.length)).sort()
    }
  }
}
