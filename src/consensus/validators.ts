import { create } from '@bufbuild/protobuf'
import { PeerIDSchema, type PeerID } from '../protos/fabric_pb.ts'
import type { Inquirer } from './interfaces.ts'

/** One validator of the network file: its Fabric name (`vpN`), its libp2p peer id, where to reach it. */
export interface ValidatorEntry {
  name: string
  peerId?: string
  address?: string
}

/**
 * The validating network as the network config lists it. PBFT replica ids come from the names
 * (`vp3` is replica 3, Fabric's convention); the peer ids tell which connection is which validator.
 */
export class ValidatorSet implements Inquirer {
  private readonly byPeerId = new Map<string, string>()

  /**
   * `open`: no network file lists the validators, so any peer may send CONSENSUS messages (noops
   * as Fabric runs it); the list then only needs to hold this peer.
   */
  constructor (readonly self: string, readonly validators: readonly ValidatorEntry[], readonly open = false) {
    const names = new Set<string>()
    for (const v of validators) {
      if (names.has(v.name)) throw new Error(`validator ${v.name} is listed twice in the network config`)
      names.add(v.name)
      if (v.peerId !== undefined) {
        if (this.byPeerId.has(v.peerId)) throw new Error(`peer id ${v.peerId} is listed for both ${this.byPeerId.get(v.peerId)} and ${v.name}`)
        this.byPeerId.set(v.peerId, v.name)
      }
    }
    if (!names.has(self)) throw new Error(`this peer (${self}) is not among the validators ${[...names].join(', ')}`)
  }

  /** The validator name of a remote libp2p peer id, if it is a validator. */
  nameOfPeer (peerId: string): string | undefined { return this.byPeerId.get(peerId) }

  peerIdOf (name: string): string | undefined { return this.validators.find(v => v.name === name)?.peerId }

  has (name: string): boolean { return this.open || this.validators.some(v => v.name === name) }

  getNetworkHandles (): { self: PeerID, network: PeerID[] } {
    return { self: handle(this.self), network: this.validators.map(v => handle(v.name)) }
  }
}

export function handle (name: string): PeerID {
  return create(PeerIDSchema, { name })
}

/** Fabric's getValidatorID: `vpN` → N. Throws for any other name. */
export function replicaIdOf (name: string): number {
  const m = /^vp(\d+)$/.exec(name)
  if (m === null) throw new Error(`peer name "${name}" is not a PBFT replica name: set peer.id to vpN, N a unique integer from 0 to N-1`)
  const id = Number(m[1])
  if (!Number.isSafeInteger(id)) throw new Error(`replica number in "${name}" is too large`)
  return id
}

/** Fabric's getValidatorHandle: N → `vpN`. */
export function replicaName (id: number): string { return `vp${id}` }
