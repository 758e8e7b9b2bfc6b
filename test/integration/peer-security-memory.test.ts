import { create, fromBinary } from '@bufbuild/protobuf'
import { generateKeyPair, publicKeyFromRaw } from '@libp2p/crypto/keys'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { HelloMessageSchema, Message_Type, PeerEndpointSchema, type Message } from '../../src/protos/fabric_pb.ts'
import { timestampAt } from '../../src/ledger/block.ts'
import { getPeersMessage, helloMessage } from '../../src/peer/messages.ts'
import { createPeer, type Peer } from '../../src/peer/peer.ts'
import { keySigner, signMessage, verifyMessage, type MessageSigner, type SigningRule } from '../../src/peer/security.ts'
import type { ChatStream } from '../../src/transport/chat-stream.ts'
import { memoryChatPair, MemoryNetwork } from '../../src/transport/memory.ts'
import { memoryPeer, newLedger, testInit } from './peer-helpers.ts'
import { captureLogs } from '../helpers/logs.ts'
import { waitFor } from '../helpers/wait.ts'
import { typeNames, watchedHandlers, type Handled } from './peer-observers.ts'

let logs: ReturnType<typeof captureLogs>
let peers: Peer[] = []
beforeEach(() => { logs = captureLogs(); peers = [] })
afterEach(async () => {
  await Promise.all(peers.map(async p => await p.stop()))
  logs.restore()
})

/** A peer with security on; `handled` is every message that passed the signature check to its handlers. */
async function securePeer (net: MemoryNetwork, id: string, rule: SigningRule = 'every'): Promise<{ peer: Peer, signer: MessageSigner, handled: Handled[] }> {
  const signer = { ...keySigner(await generateKeyPair('Ed25519')), rule }
  const { factory, handled } = watchedHandlers()
  const peer = await memoryPeer(net, id, { securityEnabled: true }, { signer, handlerFactory: factory })
  peers.push(peer)
  return { peer, signer, handled }
}

/** Chats with `peer` as vp0 naming `real`'s pkiID: HELLO signed by `impostor`, then unsigned, then signed by `real`. */
async function helloAsVp0 (peer: Peer, real: MessageSigner, impostor: MessageSigner): Promise<{ mine: ChatStream, hello: Message, signed: Message }> {
  const endpoint = { ID: { name: 'vp0' }, address: 'vp0', type: 1, pkiID: real.pkiID } as const
  const [mine, theirs] = memoryChatPair('vp0', 'vp1')
  void peer.handleChat(theirs, false).catch(() => {})
  const hello = helloMessage(create(PeerEndpointSchema, endpoint), await peer.ledger.getBlockchainInfo(), timestampAt(0))
  await mine.send(await signMessage(hello, impostor))
  await mine.send(hello) // unsigned
  const signed = await signMessage(hello, real)
  await mine.send(signed)
  return { mine, hello, signed }
}

describe('security.enabled', () => {
  it('signs every message and checks HELLO against the endpoint\'s pkiID', async () => {
    const net = new MemoryNetwork()
    const a = await securePeer(net, 'vp0')
    const b = await securePeer(net, 'vp1')
    await a.peer.chatWithPeer('vp1')
    await waitFor('handshake', () => a.peer.peerIDs().includes('vp1') && b.peer.peerIDs().includes('vp0'))
    expect(b.peer.getRemoteLedger('vp0').to()?.pkiID).toEqual(a.signer.pkiID)
    expect(a.signer.pkiID).toHaveLength(32) // the raw Ed25519 public key
    const hello = await a.peer.prepareOutgoing(await a.peer.newHelloMessage())
    await expect(verifyMessage(hello, a.signer.pkiID, 'vp0', 'every')).resolves.toBeUndefined()
    await expect(verifyMessage(hello, b.signer.pkiID, 'vp0', 'every')).rejects.toThrow(/does not verify/)
    expect(await a.peer.broadcast(getPeersMessage())).toEqual([])
    // Each checked the other's signatures and took every message: HELLO both ways, then the peers asked for and sent.
    await waitFor('b\'s answer at a', () => a.handled.some(h => h.type === Message_Type.DISC_PEERS))
    expect(typeNames(b.handled)).toEqual(['DISC_HELLO', 'DISC_GET_PEERS'])
    expect(typeNames(a.handled)).toEqual(['DISC_HELLO', 'DISC_PEERS'])
    expect([...a.handled, ...b.handled].filter(h => h.error !== undefined)).toEqual([])
  })

  it('refuses a HELLO signed by another key than the one it names, and unsigned or altered messages after HELLO', async () => {
    const net = new MemoryNetwork()
    const b = await securePeer(net, 'vp1')
    const real = keySigner(await generateKeyPair('Ed25519'))
    const { mine } = await helloAsVp0(b.peer, real, keySigner(await generateKeyPair('Ed25519')))
    // The first message b answers is the properly signed HELLO: the two before it never reached its FSM.
    const reply = await mine.recv() as Message
    expect(reply.type).toBe(Message_Type.DISC_HELLO)
    await expect(verifyMessage(reply, b.signer.pkiID, 'vp1', 'every')).resolves.toBeUndefined()
    expect(fromBinary(HelloMessageSchema, reply.payload).peerEndpoint?.pkiID).toEqual(b.signer.pkiID)
    await waitFor('registered', () => b.peer.peerIDs().includes('vp0'))
    expect(b.handled).toHaveLength(1)

    const signed = await signMessage(getPeersMessage(), real)
    await mine.send({ ...signed, payload: Uint8Array.of(1) })
    await mine.send(getPeersMessage())
    await mine.send(signed)
    expect((await mine.recv())?.type).toBe(Message_Type.DISC_PEERS) // only the good one was answered
    // Neither the altered nor the unsigned message got past the signature check to the FSM.
    expect(typeNames(b.handled)).toEqual(['DISC_HELLO', 'DISC_GET_PEERS'])
    expect(b.handled.filter(h => h.error !== undefined)).toEqual([])
  })

  it('under Fabric\'s rule signs only HELLO, over its payload, and takes later messages unsigned', async () => {
    const net = new MemoryNetwork()
    const b = await securePeer(net, 'vp1', 'hello')
    const real = { ...keySigner(await generateKeyPair('Ed25519')), rule: 'hello' as const }
    const { mine, hello, signed } = await helloAsVp0(b.peer, real, { ...real, sign: keySigner(await generateKeyPair('Ed25519')).sign })
    // The signature covers the payload alone, as Fabric's secHelper.Sign(msg.Payload).
    expect(await publicKeyFromRaw(real.pkiID).verify(hello.payload, signed.signature)).toBe(true)
    const reply = await mine.recv() as Message
    expect(reply.type).toBe(Message_Type.DISC_HELLO)
    await expect(verifyMessage(reply, b.signer.pkiID, 'vp1', 'hello')).resolves.toBeUndefined()
    await waitFor('registered', () => b.peer.peerIDs().includes('vp0'))
    expect(typeNames(b.handled)).toEqual(['DISC_HELLO'])

    await mine.send(getPeersMessage()) // unsigned, as Fabric sends it
    const peersReply = await mine.recv() as Message
    expect(peersReply.type).toBe(Message_Type.DISC_PEERS)
    expect(peersReply.signature).toHaveLength(0)
    expect((await b.peer.prepareOutgoing(getPeersMessage())).signature).toHaveLength(0)
    expect(typeNames(b.handled)).toEqual(['DISC_HELLO', 'DISC_GET_PEERS'])
  })

  it('needs a signer; with security off nothing is signed and no pkiID is sent', async () => {
    const net = new MemoryNetwork()
    expect(() => createPeer(testInit('vp9', { securityEnabled: true }), { ledger: {} as never, dialer: net.dialer('vp9') }))
      .toThrow(/security.enabled needs a signer/)
    const plain = await memoryPeer(net, 'vp0', {}, { ledger: await newLedger() })
    peers.push(plain)
    const hello = await plain.prepareOutgoing(await plain.newHelloMessage())
    expect(hello.signature).toHaveLength(0)
    expect(fromBinary(HelloMessageSchema, hello.payload).peerEndpoint?.pkiID).toHaveLength(0)
  })
})
