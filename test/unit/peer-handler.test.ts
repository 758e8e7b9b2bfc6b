import { create } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { MessageSchema, Message_Type, PeerEndpoint_Type, type Message } from '../../src/protos/fabric_pb.ts'
import { newPeerHandler } from '../../src/peer/handler.ts'
import type { HandlerFactory, MessageHandler } from '../../src/peer/message-handler.ts'
import { createPeer, type Peer } from '../../src/peer/peer.ts'
import { memoryChatPair, MemoryNetwork } from '../../src/transport/memory.ts'
import { seededRandom } from '../../src/util/scheduler.ts'
import { memoryPeer, newLedger, testInit } from '../integration/peer-helpers.ts'
import { VirtualScheduler } from '../sim/scheduler.ts'
import { captureLogs } from '../helpers/logs.ts'
import { waitFor } from '../helpers/wait.ts'

/** What consensus does (Fabric's ConsensusHandler): CONSENSUS messages to itself, the rest to the peer's FSM. */
class ConsensusWrapper implements MessageHandler {
  readonly got: Message[] = []
  constructor (private readonly inner: MessageHandler) {}
  async handleMessage (msg: Message): Promise<void> {
    if (msg.type === Message_Type.CONSENSUS) this.got.push(msg)
    else await this.inner.handleMessage(msg)
  }
  sendMessage (msg: Message): Promise<void> { return this.inner.sendMessage(msg) }
  to () { return this.inner.to() }
  stop (): Promise<void> { return this.inner.stop() }
}

describe('the peer with a consensus handler around its FSM', () => {
  it('delivers CONSENSUS broadcasts to validators only, and unicasts by peer id', async () => {
    const logs = captureLogs()
    const wrappers = new Map<string, ConsensusWrapper[]>()
    const factoryFor = (id: string): HandlerFactory<Peer> => (peer, stream, initiated) => {
      const w = new ConsensusWrapper(newPeerHandler(peer, stream, initiated))
      wrappers.set(id, [...(wrappers.get(id) ?? []), w])
      return w
    }
    const net = new MemoryNetwork()
    const vp0 = await memoryPeer(net, 'vp0', {}, { handlerFactory: factoryFor('vp0') })
    const vp1 = await memoryPeer(net, 'vp1', {}, { handlerFactory: factoryFor('vp1') })
    const nvp = await memoryPeer(net, 'nvp0', { validator: false }, { handlerFactory: factoryFor('nvp0') })
    let changes = 0
    vp0.onPeersChanged(() => { changes++ })
    await vp0.chatWithPeer('vp1')
    await vp0.chatWithPeer('nvp0')
    await waitFor('connected', () => vp0.peerIDs().length === 2 && vp1.peerIDs().length === 1 && nvp.peerIDs().length === 1)
    expect(changes).toBe(2)
    expect(vp0.getValidators().map(v => v.ID?.name)).toEqual(['vp1'])

    const consensus = create(MessageSchema, { type: Message_Type.CONSENSUS, payload: Uint8Array.of(1, 2, 3) })
    expect(await vp0.broadcast(consensus, PeerEndpoint_Type.VALIDATOR)).toEqual([])
    await vp0.unicast(create(MessageSchema, { type: Message_Type.CONSENSUS, payload: Uint8Array.of(9) }), { $typeName: 'protos.PeerID', name: 'vp1' })
    await waitFor('delivered', () => wrappers.get('vp1')!.flatMap(w => w.got).length === 2)
    expect(wrappers.get('vp1')!.flatMap(w => w.got.map(m => [...m.payload]))).toEqual([[1, 2, 3], [9]])
    expect(wrappers.get('nvp0')!.flatMap(w => w.got)).toEqual([])
    await expect(vp0.unicast(consensus, 'vp7')).rejects.toThrow('Message handler not found for receiver vp7')
    expect(() => vp0.getRemoteLedger('vp7')).toThrow('Remote ledger not found for receiver vp7')

    await Promise.all([vp0.stop(), vp1.stop(), nvp.stop()])
    expect(changes).toBe(4) // both went away
    logs.restore()
  })
})

describe('discovery ticks on injected timers', () => {
  it('sends DISC_GET_PEERS once per peer.discovery.period after HELLO, and stops with the chat', async () => {
    const scheduler = new VirtualScheduler()
    const net = new MemoryNetwork()
    const p = createPeer(testInit('vp0', { discovery: { period: 5000, touchPeriod: 0 } }), { ledger: await newLedger(), dialer: net.dialer('vp0'), scheduler, random: seededRandom(1) })
    const other = createPeer(testInit('vp1'), { ledger: await newLedger(), dialer: net.dialer('vp1') })
    const [mine, theirs] = memoryChatPair('vp1', 'vp0')
    const loop = p.handleChat(theirs, false)
    await mine.send(await other.newHelloMessage())
    expect((await mine.recv())?.type).toBe(Message_Type.DISC_HELLO)
    await waitFor('registered', () => p.peerIDs().length === 1)
    scheduler.advance(4999)
    scheduler.advance(1)
    scheduler.advance(10_000)
    const got: Message_Type[] = []
    for (let i = 0; i < 3; i++) got.push((await mine.recv())!.type)
    expect(got).toEqual([Message_Type.DISC_GET_PEERS, Message_Type.DISC_GET_PEERS, Message_Type.DISC_GET_PEERS])
    await mine.close()
    await loop
    expect(scheduler.pending).toBe(0) // the ticker is gone with the chat
  })
})
