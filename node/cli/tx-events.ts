// `--wait` for the client verbs: listens on the peer's Events service (peer.validator.events.address)
// for BLOCK and REJECTION events, as a Fabric 0.6 application waits, so it works against a Fabric
// peer too. Registered before the transaction is sent, so a fast block is not missed.
import { create } from '@bufbuild/protobuf'
import type { ClientDuplexStream } from '@grpc/grpc-js'
import { EventSchema, EventType, Events, InterestSchema, type Event } from '../../src/protos/events_pb.ts'
import { channelOptions } from '../grpc/client.ts'
import { clientConstructor } from '../grpc/service-definition.ts'
import type { ClientTls } from '../grpc/tls.ts'
import type { ChannelCredentials } from '@grpc/grpc-js'

/** A block holding the transaction arrived (committed), or the peer rejected it (with its reason). */
export type TxOutcome = { committed: true } | { committed: false, rejected: string }

export class TxEventWatch {
  private readonly outcomes = new Map<string, TxOutcome>()
  private readonly waiting = new Map<string, (o: TxOutcome) => void>()
  private failure: Error | undefined

  private constructor (private readonly stream: ClientDuplexStream<Event, Event>, private readonly close: () => void) {
    stream.on('data', (ev: Event) => {
      if (ev.Event.case === 'block') {
        for (const tx of ev.Event.value.transactions) this.settle(tx.txid, { committed: true })
      } else if (ev.Event.case === 'rejection') {
        this.settle(ev.Event.value.tx?.txid ?? '', { committed: false, rejected: ev.Event.value.errorMsg })
      }
    })
    stream.on('error', (err: Error) => { this.failure = err })
  }

  /** Connects and registers; resolves once the peer has acknowledged the registration. */
  static async open (address: string, creds: ChannelCredentials, tls: ClientTls | undefined, timeoutMs: number): Promise<TxEventWatch> {
    const Ctor = clientConstructor(Events)
    const client = new Ctor(address, creds, channelOptions(tls))
    const stream = (client as unknown as { chat: () => ClientDuplexStream<Event, Event> }).chat()
    const close = (): void => { stream.cancel(); client.close() }
    const register = create(EventSchema, {
      Event: { case: 'register', value: { events: [create(InterestSchema, { eventType: EventType.BLOCK }), create(InterestSchema, { eventType: EventType.REJECTION })] } }
    })
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { reject(new Error(`the events service at ${address} did not acknowledge the registration within ${timeoutMs} ms`)) }, timeoutMs)
        stream.once('data', () => { clearTimeout(timer); resolve() })
        stream.once('error', (err: Error) => { clearTimeout(timer); reject(new Error(`cannot listen for events at ${address}: ${err.message}`)) })
        stream.write(register)
      })
    } catch (err) {
      close()
      throw err
    }
    return new TxEventWatch(stream, close)
  }

  /** Resolves with the transaction's outcome; rejects when the wait runs out. */
  async outcome (txid: string, timeoutMs: number): Promise<TxOutcome> {
    const known = this.outcomes.get(txid)
    if (known !== undefined) return known
    if (this.failure !== undefined) throw new Error(`lost the events stream: ${this.failure.message}`)
    return await new Promise<TxOutcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(txid)
        reject(new Error(`transaction ${txid} was accepted but no block holding it arrived within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiting.set(txid, o => { clearTimeout(timer); resolve(o) })
    })
  }

  end (): void { this.close() }

  private settle (txid: string, o: TxOutcome): void {
    this.outcomes.set(txid, o)
    const w = this.waiting.get(txid)
    if (w !== undefined) { this.waiting.delete(txid); w(o) }
  }
}
