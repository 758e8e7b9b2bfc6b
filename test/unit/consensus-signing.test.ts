import { create } from '@bufbuild/protobuf'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { utf8 } from '../../src/crypto/bytes.ts'
import { PeerIDSchema } from '../../src/protos/fabric_pb.ts'
import { viewChangeSigning } from '../../node/peer/network-file.ts'

const handle = (name: string) => create(PeerIDSchema, { name })

describe('view-change signatures with the validators\' libp2p keys', () => {
  it('verifies a replica\'s signature against the key its peer id carries, and nothing else', async () => {
    const [k0, k1] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')])
    const network = [
      { name: 'vp0', peerId: peerIdFromPrivateKey(k0).toString() },
      { name: 'vp1', peerId: peerIdFromPrivateKey(k1).toString() }
    ]
    const vp0 = viewChangeSigning(k0, network)
    const vp1 = viewChangeSigning(k1, network)
    const data = utf8('view-change v:1 h:10')
    const sig = vp0.sign(data)
    // The same signature libp2p itself would make and accept.
    expect(await k0.publicKey.verify(data, sig)).toBe(true)
    expect(() => vp1.verify(handle('vp0'), sig, data)).not.toThrow()
    expect(() => vp1.verify(handle('vp1'), sig, data)).toThrow(/bad signature from vp1/)
    expect(() => vp1.verify(handle('vp0'), sig, utf8('view-change v:2 h:10'))).toThrow(/bad signature/)
    expect(() => vp1.verify(handle('vp7'), sig, data)).toThrow(/no public key for vp7/)
  })
})
