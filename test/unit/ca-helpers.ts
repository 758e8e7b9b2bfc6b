import { clone, create, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes, utf8 } from '../../src/crypto/bytes.ts'
import { generateEcKey, type EcPrivateKey } from '../../src/crypto/fabric/ec-key.ts'
import { bigIntText, ecdsaSignDirect } from '../../src/crypto/fabric/ecdsa.ts'
import { eciesDecrypt } from '../../src/crypto/fabric/ecies.ts'
import { marshalPublicKey } from '../../src/crypto/fabric/keys.ts'
import type { CryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { loadCaConfig, type MembersrvcConfig } from '../../src/ca/config.ts'
import { createMembershipServices, type MembershipServices } from '../../src/ca/membership.ts'
import {
  CryptoType, ECertCreateReqSchema, SignatureSchema, TokenSchema, type ECertCreateReq, type ECertCreateResp, type Signature
} from '../../src/protos/ca_pb.ts'
import { memoryStore } from '../../src/storage/memory.ts'
import { systemScheduler } from '../../src/util/scheduler.ts'

/** A CA in memory with Fabric's default users, at the given level. */
export async function memoryCa (level: 256 | 384, env: Record<string, string> = {}): Promise<MembershipServices> {
  const config: MembersrvcConfig = loadCaConfig({ env: { MEMBERSRVC_CA_SECURITY_LEVEL: String(level), ...env } })
  return await createMembershipServices({ store: await memoryStore(), scheduler: systemScheduler }, config)
}

/** Signs a request as Fabric's clients do: marshal without the signature, hash, R and S as decimal text. */
export function signRequest<D extends DescMessage> (suite: CryptoSuite, key: EcPrivateKey, schema: D, req: MessageShape<D>): Signature {
  const sig = ecdsaSignDirect(suite, key, toBinary(schema, req))
  return create(SignatureSchema, { type: CryptoType.ECDSA, r: bigIntText(sig.r), s: bigIntText(sig.s) })
}

export interface Challenged {
  signKey: EcPrivateKey
  encKey: EcPrivateKey
  phase1: ECertCreateReq
  /** The decrypted phase-1 token. */
  challenge: Uint8Array
}

export interface HandEnrollment extends Challenged {
  /** The phase-2 request (for replays). */
  phase2: ECertCreateReq
  resp: ECertCreateResp
}

/** Phase 1 by hand, as core/crypto's node_eca.go does: the secret and two fresh public keys; the challenge comes back encrypted. */
export async function challenge (ca: MembershipServices, suite: CryptoSuite, id: string, secret: string): Promise<Challenged> {
  const signKey = generateEcKey(suite.curve)
  const encKey = generateEcKey(suite.curve)
  const phase1 = create(ECertCreateReqSchema, {
    ts: timestampFromMs(Date.now()),
    id: { id },
    tok: { tok: utf8(secret) },
    sign: { type: CryptoType.ECDSA, key: marshalPublicKey(signKey.publicKey) },
    enc: { type: CryptoType.ECDSA, key: marshalPublicKey(encKey.publicKey) }
  })
  const first = await ca.eca.ecap.createCertificatePair(phase1)
  return { signKey, encKey, phase1, challenge: eciesDecrypt(suite, encKey, first.tok!.tok) }
}

/** The phase-2 request: phase 1's with `token` (the challenge unless given), signed by `signer` (the sign key unless given). */
export function answer (suite: CryptoSuite, c: Challenged, token = c.challenge, signer = c.signKey): ECertCreateReq {
  const phase2 = clone(ECertCreateReqSchema, c.phase1)
  phase2.tok = create(TokenSchema, { tok: token })
  phase2.sig = signRequest(suite, signer, ECertCreateReqSchema, phase2)
  return phase2
}

/** Both enrollment phases by hand. */
export async function enrollByHand (ca: MembershipServices, suite: CryptoSuite, id: string, secret: string): Promise<HandEnrollment> {
  const c = await challenge(ca, suite, id, secret)
  const phase2 = answer(suite, c)
  return { ...c, phase2, resp: await ca.eca.ecap.createCertificatePair(phase2) }
}

/** A reproducible byte stream (SHA-256 of seed and counter): a CA that draws from it makes the same keys and challenges again. */
export function seededBytes (seed: string): (n: number) => Uint8Array {
  let counter = 0
  let pool: Uint8Array = new Uint8Array(0)
  return (n: number) => {
    while (pool.length < n) pool = concatBytes(pool, sha256(utf8(`${seed}/${counter++}`)))
    const out = pool.slice(0, n)
    pool = pool.slice(n)
    return out
  }
}
