import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import { utf8 } from '../crypto/bytes.ts'
import { PeersAddressesSchema } from '../protos/fabric_pb.ts'
import { WriteBatch, type Column } from '../storage/index.ts'

/** Bounds on what discovery remembers (Weft's peer.discovery.maxNodes / expiry). */
export interface DiscoveryLimits {
  /** Addresses kept, verified and claimed together. */
  maxNodes: number
  /** A verified address unreachable for this long (ms) is forgotten. */
  expiry: number
  /**
   * A claimed address whose dial failed is not taken again for `claimBackoff` ms, doubling with
   * each further failure up to `claimRetry` ms.
   */
  claimBackoff: number
  claimRetry: number
}

export const defaultDiscoveryLimits: DiscoveryLimits = { maxNodes: 256, expiry: 60 * 60 * 1000, claimBackoff: 6000, claimRetry: 60 * 1000 }

/**
 * The addresses this peer knows of (Fabric's discovery.Discovery), in the order they were learnt.
 * Only a *verified* address (one this peer dialled and that answered HELLO) is persisted;
 * what a remote merely claims (its inbound HELLO, a DISC_PEERS list) is kept in memory, tried,
 * and dropped at its first failed dial. Both together stay within `maxNodes`, and a verified
 * address that stays unreachable for `expiry` is forgotten, so planted addresses cannot pile up.
 */
export class DiscoveryList {
  private readonly verified = new Map<string, number>()
  private readonly claimed = new Set<string>()
  /** Claims whose dial failed: when they may be tried again, and how many times they failed; up to 16 × maxNodes (the oldest go first). */
  private readonly failedClaims = new Map<string, { retryAt: number, failures: number }>()

  constructor (private readonly limits: DiscoveryLimits = defaultDiscoveryLimits) {}

  /** Records a verified address (reached now); true when the persisted list changed. */
  reached (address: string, now: number): boolean {
    if (address === '') return false
    this.claimed.delete(address)
    this.failedClaims.delete(address)
    const known = this.verified.has(address)
    if (!known && this.full()) return false
    this.verified.set(address, now)
    return !known
  }

  /** Records an address a remote claims; true when it is (now) known and worth dialling. */
  claim (address: string, now: number): boolean {
    if (address === '') return false
    if (this.verified.has(address) || this.claimed.has(address)) return true
    const failed = this.failedClaims.get(address)
    if (failed !== undefined && now < failed.retryAt) return false
    if (this.full()) return false
    this.claimed.add(address)
    return true
  }

  /** A dial to `address` failed: a claim is dropped, a verified address expires; true when the persisted list changed. */
  unreachable (address: string, now: number): boolean {
    if (this.claimed.delete(address)) {
      const failures = (this.failedClaims.get(address)?.failures ?? 0) + 1
      this.failedClaims.delete(address)
      if (this.failedClaims.size >= 16 * this.limits.maxNodes) this.failedClaims.delete(this.failedClaims.keys().next().value!)
      const wait = Math.min(this.limits.claimRetry, this.limits.claimBackoff * 2 ** (failures - 1))
      this.failedClaims.set(address, { retryAt: now + wait, failures })
    }
    const last = this.verified.get(address)
    if (last === undefined || now - last < this.limits.expiry) return false
    this.verified.delete(address)
    return true
  }

  remove (address: string): boolean {
    const claimed = this.claimed.delete(address)
    return this.verified.delete(address) || claimed
  }

  has (address: string): boolean { return this.verified.has(address) || this.claimed.has(address) }

  /** Every known address, verified first. */
  all (): string[] { return [...this.verified.keys(), ...this.claimed] }

  /** What is persisted: the verified addresses. */
  persisted (): string[] { return [...this.verified.keys()] }

  private full (): boolean { return this.verified.size + this.claimed.size >= this.limits.maxNodes }
}

/** Fabric keeps the list under "discovery" in the persist column family, as a PeersAddresses. */
const discoveryKey = utf8('discovery')

export async function loadDiscoveryList (persist: Column): Promise<string[]> {
  const bytes = await persist.get(discoveryKey)
  if (bytes === undefined) return []
  try {
    return fromBinary(PeersAddressesSchema, bytes).addresses
  } catch (err) {
    throw new Error(`Could not unmarshal discovery list message: ${(err as Error).message}`)
  }
}

export async function storeDiscoveryList (persist: Column, addresses: string[]): Promise<void> {
  const batch = new WriteBatch().put(persist, discoveryKey, toBinary(PeersAddressesSchema, create(PeersAddressesSchema, { addresses })))
  await persist.store.write(batch.ops)
}
