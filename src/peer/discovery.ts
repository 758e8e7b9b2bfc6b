import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import { utf8 } from '../crypto/bytes.ts'
import { PeersAddressesSchema } from '../protos/fabric_pb.ts'
import { WriteBatch, type Column } from '../storage/index.ts'
import { randomInt, type Random } from './timers.ts'

/** The addresses this peer knows of (Fabric's discovery.Discovery), in the order they were learnt. */
export class DiscoveryList {
  private readonly nodes: string[] = []

  constructor (private readonly random: Random) {}

  /** Adds an address; true when it is (now) in the list. */
  add (address: string): boolean {
    if (address === '') return false
    if (!this.nodes.includes(address)) this.nodes.push(address)
    return true
  }

  remove (address: string): boolean {
    const i = this.nodes.indexOf(address)
    if (i < 0) return false
    this.nodes.splice(i, 1)
    return true
  }

  has (address: string): boolean { return this.nodes.includes(address) }

  all (): string[] { return [...this.nodes] }

  /** Up to `n` distinct addresses picked at random. */
  randomNodes (n: number): string[] {
    const pool = [...this.nodes]
    const out: string[] = []
    while (out.length < n && pool.length > 0) out.push(pool.splice(randomInt(this.random, pool.length), 1)[0])
    return out
  }
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
