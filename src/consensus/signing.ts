import { ed25519 } from '@noble/curves/ed25519.js'
import type { PeerID } from '../protos/fabric_pb.ts'
import type { SecurityUtils } from './interfaces.ts'

/**
 * Signatures on PBFT's signed messages (view-change) with the validators' libp2p Ed25519 keys:
 * this peer signs with its own key; a signer is looked up by its replica name in the network
 * file and checked against the public key its peer id carries. Synchronous, as PBFT needs.
 */
export function ed25519Security (seed: Uint8Array, publicKeyOf: (name: string) => Uint8Array | undefined): SecurityUtils {
  if (seed.length !== 32) throw new Error(`an Ed25519 private key seed has 32 bytes, got ${seed.length}`)
  return {
    sign: data => ed25519.sign(data, seed),
    verify (signer: PeerID, signature: Uint8Array, data: Uint8Array) {
      const pub = publicKeyOf(signer.name)
      if (pub === undefined) throw new Error(`no public key for ${signer.name}: it is not in the network file with a peer id`)
      if (!ed25519.verify(signature, data, pub)) throw new Error(`bad signature from ${signer.name}`)
    }
  }
}
