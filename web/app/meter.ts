// Sees every Chat stream of a peer: counts messages by type (how much a sync really downloaded),
// follows each stream's handler FSM from the evidence on the wire (created until the remote's
// DISC_HELLO, then established), remembers when the remote was last heard from, and lets the
// demo network tap CONSENSUS traffic.
import { fromBinary } from '@bufbuild/protobuf'
import { HelloMessageSchema, Message_Type, PeerEndpoint_Type, type Message } from '../../src/protos/fabric_pb.ts'
import type { ChatStream } from '../../src/transport/chat-stream.ts'
import type { PeerTransport } from '../../src/transport/peer-transport.ts'

export type FsmState = 'created' | 'established' | 'closed'

export interface ChatRecord {
  id: number
  /** libp2p peer id (or memory name) of the other side. */
  remote: string
  /** What the stream says carries it, e.g. libp2p/ws, libp2p/relay, memory. */
  streamTransport: string
  direction: 'outbound' | 'inbound'
  state: FsmState
  /** From the remote's HELLO. */
  name?: string
  address?: string
  role?: 'validator' | 'non-validator'
  openedAt: number
  /** Last time anything arrived on this stream (liveness is only ever judged from this). */
  lastHeard: number
  received: number
  sent: number
  closedAt?: number
  error?: string
}

export type Tap = (rec: ChatRecord, direction: 'in' | 'out', msg: Message) => void

export function messageTypeName (t: Message_Type): string { return Message_Type[t] ?? `TYPE_${t}` }

let nextId = 0

export class ChatMeter {
  readonly received: Record<string, number> = {}
  readonly sent: Record<string, number> = {}
  readonly chats = new Set<ChatRecord>()
  private readonly closed: ChatRecord[] = []
  private readonly listeners = new Set<() => void>()
  tap?: Tap

  /** Current and recently closed chats. */
  records (): ChatRecord[] { return [...this.chats, ...this.closed] }

  onChange (l: () => void): () => void {
    this.listeners.add(l)
    return () => this.listeners.delete(l)
  }

  private changed (): void { for (const l of this.listeners) l() }

  resetCounts (): void {
    for (const k of Object.keys(this.received)) delete this.received[k]
    for (const k of Object.keys(this.sent)) delete this.sent[k]
  }

  wrap (stream: ChatStream, direction: 'outbound' | 'inbound'): ChatStream {
    const now = Date.now()
    const rec: ChatRecord = { id: ++nextId, remote: stream.remote, streamTransport: stream.transport, direction, state: 'created', openedAt: now, lastHeard: now, received: 0, sent: 0 }
    this.chats.add(rec)
    this.changed()
    const finish = (err?: Error): void => {
      if (rec.state === 'closed') return
      rec.state = 'closed'
      rec.closedAt = Date.now()
      if (err !== undefined) rec.error = err.message
      this.chats.delete(rec)
      this.closed.unshift(rec)
      this.closed.length = Math.min(this.closed.length, 20)
      this.changed()
    }
    return {
      remote: stream.remote,
      transport: stream.transport,
      send: async (msg: Message) => {
        const name = messageTypeName(msg.type)
        this.sent[name] = (this.sent[name] ?? 0) + 1
        rec.sent++
        this.tap?.(rec, 'out', msg)
        await stream.send(msg)
      },
      recv: async () => {
        let msg: Message | undefined
        try {
          msg = await stream.recv()
        } catch (err) {
          finish(err as Error)
          throw err
        }
        if (msg === undefined) { finish(); return undefined }
        rec.lastHeard = Date.now()
        rec.received++
        const name = messageTypeName(msg.type)
        this.received[name] = (this.received[name] ?? 0) + 1
        if (msg.type === Message_Type.DISC_HELLO && rec.state === 'created') this.hello(rec, msg)
        this.tap?.(rec, 'in', msg)
        return msg
      },
      close: async (err?: Error) => {
        finish(err)
        await stream.close(err)
      }
    }
  }

  private hello (rec: ChatRecord, msg: Message): void {
    rec.state = 'established'
    try {
      const ep = fromBinary(HelloMessageSchema, msg.payload).peerEndpoint
      rec.name = ep?.ID?.name
      rec.address = ep?.address
      rec.role = ep?.type === PeerEndpoint_Type.VALIDATOR ? 'validator' : 'non-validator'
    } catch { /* the FSM will refuse it */ }
    this.changed()
  }

  /** The transport, with every stream it opens or accepts metered. */
  transport (inner: PeerTransport): PeerTransport {
    return {
      name: inner.name,
      get address () { return inner.address },
      canDial: address => inner.canDial(address),
      dialChat: async (address, options) => this.wrap(await inner.dialChat(address, options), 'outbound'),
      processTransaction: (address, tx, options) => inner.processTransaction(address, tx, options),
      start: server => inner.start({
        handleChat: (stream, initiated) => server.handleChat(this.wrap(stream, 'inbound'), initiated),
        processTransaction: tx => server.processTransaction(tx),
        chatWithPeer: server.chatWithPeer === undefined ? undefined : address => server.chatWithPeer!(address)
      }),
      stop: () => inner.stop()
    }
  }
}
