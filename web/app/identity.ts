// Which peer this tab is. Each "slot" is one browser peer of this origin: its own Ed25519 key
// (in idb-keyval) and its own IndexedDB ledger. A tab holds its slot with a Web Lock for as long
// as it lives, so two tabs of one origin are two peers; a reload takes the same slot back
// (sessionStorage remembers it per tab), so the peer id and the chain survive a reload.
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { get, set } from 'idb-keyval'
import { errorMessage } from '../../src/util/errors.ts'

export const MAX_SLOTS = 16
const SESSION_KEY = 'weft-slot'

export interface Slot {
  index: number
  /** Resolves when the tab gives the slot up (never, in practice: the lock dies with the page). */
  release (): void
}

/** Holds the Web Lock `weft-slot-<i>` until release(); resolves false at once when another tab has it. */
function tryLock (index: number, waitMs: number): Promise<(() => void) | undefined> {
  const locks = navigator.locks
  if (locks === undefined) return Promise.resolve(() => {})
  return new Promise(resolve => {
    let release!: () => void
    const held = new Promise<void>(r => { release = r })
    const signal = waitMs > 0 ? AbortSignal.timeout(waitMs) : undefined
    locks.request(`weft-slot-${index}`, waitMs > 0 ? { signal } : { ifAvailable: true }, async lock => {
      if (lock === null) { resolve(undefined); return }
      resolve(release)
      await held
    }).catch(() => resolve(undefined))
  })
}

/**
 * Claims a slot: `wanted` (from the URL) if given, else the one this tab had before a reload
 * (waiting for the old page to let go of it), else the lowest free one.
 */
export async function claimSlot (wanted?: number): Promise<Slot> {
  const previous = Number(sessionStorage.getItem(SESSION_KEY) ?? NaN)
  const first = wanted ?? (Number.isInteger(previous) ? previous : undefined)
  if (first !== undefined) {
    // On a reload the old page still holds the slot until it is torn down: wait for it. A new
    // tab that inherited this tab's sessionStorage (duplicate) only waits a moment, then moves on.
    const nav = performance.getEntriesByType?.('navigation')[0] as PerformanceNavigationTiming | undefined
    const release = await tryLock(first, wanted !== undefined || nav?.type === 'reload' ? 15_000 : 1000)
    if (release !== undefined) return remember(first, release)
    if (wanted !== undefined) throw new Error(`peer slot ${wanted} is in use by another tab of this browser`)
  }
  for (let i = 0; i < MAX_SLOTS; i++) {
    if (i === first) continue
    const release = await tryLock(i, 0)
    if (release !== undefined) return remember(i, release)
  }
  throw new Error(`all ${MAX_SLOTS} browser peer slots are in use by other tabs of this browser`)
}

function remember (index: number, release: () => void): Slot {
  sessionStorage.setItem(SESSION_KEY, String(index))
  return { index, release }
}

/** The slot's libp2p key, created on first use and kept in idb-keyval. */
export async function loadOrCreateKey (slot: number): Promise<PrivateKey> {
  const name = `weft-identity-${slot}`
  const stored = await get<Uint8Array>(name)
  if (stored instanceof Uint8Array) {
    try {
      return privateKeyFromProtobuf(stored)
    } catch (err) {
      console.warn(`stored identity ${name} is unreadable (${errorMessage(err)}); making a new one`)
    }
  }
  const key = await generateKeyPair('Ed25519')
  await set(name, privateKeyToProtobuf(key))
  return key
}
