// Message signing with security.enabled. Fabric signs only HELLO's payload; Weft signs every
// Chat message: the signature covers the marshaled Message with its signature field empty.
// A peer's pkiID is the raw bytes of its libp2p public key (Ed25519: 32 bytes).
import { create, toBinary } from '@bufbuild/protobuf'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { MessageSchema, type Message } from '../protos/fabric_pb.ts'

export interface MessageSigner {
  /** What others verify this peer's signatures with; sent as PeerEndpoint.pkiID. */
  readonly pkiID: Uint8Array
  sign (data: Uint8Array): Promise<Uint8Array>
  /** How this peer checks another's signature against that peer's pkiID; default: the pkiID is a raw Ed25519 public key. */
  verify?: SignatureCheck
}

/** Whether `signature` over `data` is the signature of the holder of `pkiID`; throws when it cannot tell. */
export type SignatureCheck = (pkiID: Uint8Array, data: Uint8Array, signature: Uint8Array) => Promise<boolean>

const ed25519Check: SignatureCheck = async (pkiID, data, signature) => await publicKeyFromRaw(pkiID).verify(data, signature)

/** Signs with a libp2p private key, the peer's identity. */
export function keySigner (key: PrivateKey): MessageSigner {
  return {
    pkiID: key.publicKey.raw,
    sign: async (data) => await key.sign(data)
  }
}

export function signedBytes (msg: Message): Uint8Array {
  return toBinary(MessageSchema, create(MessageSchema, { type: msg.type, timestamp: msg.timestamp, payload: msg.payload }))
}

export async function signMessage (msg: Message, signer: MessageSigner): Promise<Message> {
  const signature = await signer.sign(signedBytes(msg))
  return create(MessageSchema, { type: msg.type, timestamp: msg.timestamp, payload: msg.payload, signature })
}

/** Throws with the reason when `msg` was not signed by the holder of `pkiID`. */
export async function verifyMessage (msg: Message, pkiID: Uint8Array, from: string, check: SignatureCheck = ed25519Check): Promise<void> {
  if (pkiID.length === 0) throw new Error(`cannot verify the signature of a message from ${from}: its endpoint has no pkiID`)
  if (msg.signature.length === 0) throw new Error(`message from ${from} is not signed`)
  let ok: boolean
  try {
    ok = await check(pkiID, signedBytes(msg), msg.signature)
  } catch (err) {
    throw new Error(`cannot verify the signature of a message from ${from}: ${(err as Error).message}`)
  }
  if (!ok) throw new Error(`signature of a message from ${from} does not verify against its pkiID`)
}
