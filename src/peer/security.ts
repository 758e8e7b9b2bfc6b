// Message signing with security.enabled. Two rules, one per kind of identity:
// - 'hello': Fabric 0.6.1's, for peers enrolled with membership services. Only DISC_HELLO is
//   signed, over its payload (the marshaled HelloMessage), and only DISC_HELLO is checked; a
//   Fabric peer sends every other message unsigned and ignores their signature fields.
// - 'every': Weft's own, for libp2p identities (no Fabric peer can join those). Every Chat
//   message is signed over the marshaled Message with its signature field empty, and checked.
//   The pkiID is the raw bytes of the libp2p public key (Ed25519: 32 bytes).
import { create, toBinary } from '@bufbuild/protobuf'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { MessageSchema, Message_Type, type Message } from '../protos/fabric_pb.ts'

export type SigningRule = 'hello' | 'every'

export interface MessageSigner {
  /** What others verify this peer's signatures with; sent as PeerEndpoint.pkiID. */
  readonly pkiID: Uint8Array
  readonly rule: SigningRule
  sign (data: Uint8Array): Promise<Uint8Array>
  /** How this peer checks another's signature against that peer's pkiID; default: the pkiID is a raw Ed25519 public key. */
  verify?: SignatureCheck
}

/** Whether `signature` over `data` is the signature of the holder of `pkiID`; throws when it cannot tell. */
export type SignatureCheck = (pkiID: Uint8Array, data: Uint8Array, signature: Uint8Array) => Promise<boolean>

const ed25519Check: SignatureCheck = async (pkiID, data, signature) => await publicKeyFromRaw(pkiID).verify(data, signature)

/** Signs every message with a libp2p private key, the peer's identity. */
export function keySigner (key: PrivateKey): MessageSigner {
  return {
    pkiID: key.publicKey.raw,
    rule: 'every',
    sign: async (data) => await key.sign(data)
  }
}

/** Whether `rule` signs (and checks) a message of this type. */
export function isSigned (rule: SigningRule, type: Message_Type): boolean {
  return rule === 'every' || type === Message_Type.DISC_HELLO
}

/** The bytes a signature covers under `rule`. */
export function signedBytes (msg: Message, rule: SigningRule): Uint8Array {
  if (rule === 'hello') return msg.payload
  return toBinary(MessageSchema, create(MessageSchema, { type: msg.type, timestamp: msg.timestamp, payload: msg.payload }))
}

/** `msg` signed as `signer`'s rule says; a message the rule leaves unsigned goes as it is. */
export async function signMessage (msg: Message, signer: MessageSigner): Promise<Message> {
  if (!isSigned(signer.rule, msg.type)) return msg
  const signature = await signer.sign(signedBytes(msg, signer.rule))
  return create(MessageSchema, { type: msg.type, timestamp: msg.timestamp, payload: msg.payload, signature })
}

/** Throws with the reason when `msg` was not signed by the holder of `pkiID` under `rule`. */
export async function verifyMessage (msg: Message, pkiID: Uint8Array, from: string, rule: SigningRule, check: SignatureCheck = ed25519Check): Promise<void> {
  if (pkiID.length === 0) throw new Error(`cannot verify the signature of a message from ${from}: its endpoint has no pkiID`)
  if (msg.signature.length === 0) throw new Error(`message from ${from} is not signed`)
  let ok: boolean
  try {
    ok = await check(pkiID, signedBytes(msg, rule), msg.signature)
  } catch (err) {
    throw new Error(`cannot verify the signature of a message from ${from}: ${(err as Error).message}`)
  }
  if (!ok) throw new Error(`signature of a message from ${from} does not verify against its pkiID`)
}
