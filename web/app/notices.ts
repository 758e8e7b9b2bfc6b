// Messages for the user: what went wrong (peer unreachable, chaincode error, storage quota) in
// words that say what to do, keyed so a condition that clears takes its message with it.
import { StorageError, type KVStore } from '../../src/storage/kv.ts'

export type NoticeLevel = 'error' | 'warn' | 'info'

export interface Notice { key: string, level: NoticeLevel, text: string, time: number }

export class Notices {
  private readonly items = new Map<string, Notice>()
  private readonly listeners = new Set<() => void>()

  show (key: string, level: NoticeLevel, text: string): void {
    const old = this.items.get(key)
    if (old?.text === text && old.level === level) return
    this.items.set(key, { key, level, text, time: Date.now() })
    this.changed()
  }

  clear (key: string): void {
    if (this.items.delete(key)) this.changed()
  }

  all (): Notice[] { return [...this.items.values()].sort((a, b) => b.time - a.time) }

  onChange (l: () => void): () => void {
    this.listeners.add(l)
    return () => this.listeners.delete(l)
  }

  private changed (): void { for (const l of this.listeners) l() }
}

export const QUOTA_TEXT = 'Storage quota exceeded: the browser refused to store more of the chain in IndexedDB. Free disk space or site data, or allow this site more storage (the page asked the browser to keep its data with navigator.storage.persist()), then reload.'

/** True for the errors browsers raise when IndexedDB is full. */
export function isQuotaError (err: unknown): boolean {
  if (err instanceof StorageError && err.code === 'QUOTA') return true
  const e = err as { name?: string, message?: string, cause?: unknown }
  if (e?.name === 'QuotaExceededError' || /quota/i.test(e?.message ?? '')) return true
  return e?.cause !== undefined && e.cause !== err && isQuotaError(e.cause)
}

/** The store, reporting write failures (quota first of all) as they happen: the ledger's own logs are not enough. */
export function watchStore (store: KVStore, onError: (err: Error, quota: boolean) => void): KVStore {
  return {
    location: store.location,
    get: k => store.get(k),
    getMany: ks => store.getMany(ks),
    entries: r => store.entries(r),
    readRanges: rs => store.readRanges(rs),
    close: () => store.close(),
    batch: () => store.batch(),
    async write (ops) {
      try {
        await store.write(ops)
      } catch (err) {
        onError(err as Error, isQuotaError(err))
        throw err
      }
    }
  }
}

/** Asks the browser to keep this origin's data (no eviction under storage pressure); reports usage. */
export async function persistStorage (): Promise<{ persisted: boolean, usage?: number, quota?: number }> {
  const s = navigator.storage
  if (s === undefined) return { persisted: false }
  let persisted = false
  try { persisted = await s.persisted() || await s.persist() } catch { /* not allowed here */ }
  try {
    const e = await s.estimate()
    return { persisted, usage: e.usage, quota: e.quota }
  } catch {
    return { persisted }
  }
}
