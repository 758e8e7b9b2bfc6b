import type { PeerEndpoint } from '../protos/fabric_pb.ts'

/** A peer sent something provably wrong (a block off the chain, a delta or state that does not hash right). */
export class MisbehaviourError extends Error {
  override name = 'MisbehaviourError'
}

/** A second chat with a peer id that already has one (Fabric's DuplicateHandlerError). */
export class DuplicateHandlerError extends Error {
  override name = 'DuplicateHandlerError'
  constructor (readonly endpoint: PeerEndpoint) {
    super(`Duplicate Handler error: ${endpoint.ID?.name ?? ''} at ${endpoint.address}`)
  }
}
