// A stand-in for Fabric 0.6.1's Go chaincode shim (core/chaincode/shim/handler.go + chaincode.go),
// written from its source: the same messages, payloads, order and FSM, so a peer that serves it
// serves the unmodified Go shim. It records every message for the tests to compare.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import {
  ChaincodeIDSchema, ChaincodeInputSchema, ChaincodeMessageSchema, ChaincodeMessage_Type as T,
  PutStateInfoSchema, type ChaincodeMessage
} from '../../src/protos/chaincode_pb.ts'
import type { Chaincode, ChaincodeStub } from '../../src/chaincode/shim/index.ts'

/** What a Go stream offers: Send, Recv (undefined = io.EOF), CloseSend. */
export interface GoStream {
  send (msg: ChaincodeMessage): Promise<void>
  recv (): Promise<ChaincodeMessage | undefined>
  close (err?: Error): Promise<void>
}

type State = 'created' | 'established' | 'init' | 'ready' | 'transaction'

// The shim's looplab FSM table: event → source → destination.
const fsm: Partial<Record<T, Partial<Record<State, State>>>> = {
  [T.REGISTERED]: { created: 'established' },
  [T.INIT]: { established: 'init' },
  [T.READY]: { established: 'ready' },
  [T.ERROR]: { init: 'established', transaction: 'ready' },
  [T.RESPONSE]: { init: 'init', transaction: 'transaction', ready: 'ready' },
  [T.COMPLETED]: { init: 'ready', transaction: 'ready' },
  [T.TRANSACTION]: { ready: 'transaction' },
  [T.QUERY]: { transaction: 'transaction', ready: 'ready' }
}

export class GoShimEmulator {
  state: State = 'created'
  readonly sent: ChaincodeMessage[] = []
  readonly received: ChaincodeMessage[] = []
  /** Set when the Go shim would have crashed or ended chatWithPeer with an error. */
  failure?: string
  private readonly responseChannel = new Map<string, (m: ChaincodeMessage) => void>()
  private readonly isTransaction = new Map<string, boolean>()

  constructor (private readonly stream: GoStream, private readonly cc: Chaincode) {}

  /** shim.Start → chatWithPeer: REGISTER, then the receive loop until EOF or an error. */
  async chatWithPeer (name: string): Promise<void> {
    await this.serialSend(create(ChaincodeMessageSchema, { type: T.REGISTER, payload: toBinary(ChaincodeIDSchema, create(ChaincodeIDSchema, { name })) }))
    try {
      for (;;) {
        const msg = await this.stream.recv()
        if (msg === undefined) return
        this.received.push(msg)
        this.handleMessage(msg)
        if (msg.type === T.KEEPALIVE) await this.serialSend(msg)
      }
    } catch (err) {
      this.failure ??= (err as Error).message
    } finally {
      await this.stream.close()
    }
  }

  private async serialSend (msg: ChaincodeMessage): Promise<void> {
    this.sent.push(msg)
    await this.stream.send(msg)
  }

  private handleMessage (msg: ChaincodeMessage): void {
    if (msg.type === T.KEEPALIVE) return
    const dst = fsm[msg.type]?.[this.state]
    if (dst === undefined) {
      const text = `[${msg.txid}]Chaincode handler FSM cannot handle message (${T[msg.type]}) with payload size (${msg.payload.length}) while in state: ${this.state}`
      void this.serialSend(create(ChaincodeMessageSchema, { type: T.ERROR, payload: new TextEncoder().encode(text), txid: msg.txid }))
      throw new Error(text)
    }
    this.state = dst
    switch (msg.type) {
      case T.INIT: this.run(msg, 'init'); break
      case T.TRANSACTION: this.run(msg, 'invoke'); break
      case T.QUERY: this.run(msg, 'query'); break
      case T.RESPONSE:
      case T.ERROR: this.responseChannel.get(msg.txid)?.(msg); break
    }
  }

  /** handleInit / handleTransaction / handleQuery. */
  private run (msg: ChaincodeMessage, fn: 'init' | 'invoke' | 'query'): void {
    void (async () => {
      try {
        fromBinary(ChaincodeInputSchema, msg.payload)
      } catch (err) {
        await this.answer(msg, fn, T.ERROR, new TextEncoder().encode((err as Error).message))
        return
      }
      // stub.init: the Go shim dereferences msg.SecurityContext unchecked; nil would panic.
      if (msg.securityContext === undefined) {
        this.failure = 'panic: runtime error: invalid memory address or nil pointer dereference (SecurityContext)'
        await this.stream.close(new Error(this.failure))
        return
      }
      const args = fromBinary(ChaincodeInputSchema, msg.securityContext.payload).args
      const strs = args.map(a => new TextDecoder().decode(a))
      this.isTransaction.set(msg.txid, fn !== 'query')
      try {
        const res = await this.cc[fn](this.stub(msg.txid, args), strs[0] ?? '', strs.slice(1))
        await this.answer(msg, fn, fn === 'query' ? T.QUERY_COMPLETED : T.COMPLETED, typeof res === 'string' ? new TextEncoder().encode(res) : res ?? undefined)
      } catch (err) {
        await this.answer(msg, fn, fn === 'query' ? T.QUERY_ERROR : T.ERROR, new TextEncoder().encode((err as Error).message))
      } finally {
        this.isTransaction.delete(msg.txid)
      }
    })()
  }

  private async answer (msg: ChaincodeMessage, fn: string, type: T, payload?: Uint8Array): Promise<void> {
    const reply = create(ChaincodeMessageSchema, { type, payload, txid: msg.txid })
    // Init / Invoke answers go through triggerNextState (FSM, then send); queries are sent directly.
    if (fn !== 'query') {
      const dst = fsm[type]?.[this.state]
      if (dst === undefined) {
        // The Go shim tells the peer and ends chatWithPeer.
        const text = `[${msg.txid}]Chaincode handler FSM cannot handle message (${T[type]}) with payload size (${reply.payload.length}) while in state: ${this.state}`
        this.failure = text
        await this.serialSend(create(ChaincodeMessageSchema, { type: T.ERROR, payload: new TextEncoder().encode(text), txid: msg.txid }))
        await this.stream.close()
        return
      }
      this.state = dst
    }
    await this.serialSend(reply)
  }

  private async request (type: T, txid: string, payload: Uint8Array): Promise<Uint8Array> {
    if (this.responseChannel.has(txid)) throw new Error(`[${txid}]Channel exists`)
    const reply = new Promise<ChaincodeMessage>(resolve => { this.responseChannel.set(txid, resolve) })
    try {
      await this.serialSend(create(ChaincodeMessageSchema, { type, payload, txid }))
      const r = await reply
      if (r.type === T.RESPONSE) return r.payload
      if (r.type === T.ERROR) throw new Error(new TextDecoder().decode(r.payload))
      throw new Error('Incorrect chaincode message received')
    } finally {
      this.responseChannel.delete(txid)
    }
  }

  /** The parts of ChaincodeStub chaincode_example02 uses, with the Go shim's semantics. */
  private stub (txid: string, args: Uint8Array[]): ChaincodeStub {
    const enc = new TextEncoder()
    const stub = {
      getTxID: () => txid,
      getArgs: () => args,
      getState: async (key: string) => {
        const v = await this.request(T.GET_STATE, txid, enc.encode(key))
        return v.length === 0 ? undefined : v
      },
      putState: async (key: string, value: Uint8Array | string) => {
        if (this.isTransaction.get(txid) !== true) throw new Error('Cannot put state in query context')
        const v = typeof value === 'string' ? enc.encode(value) : value
        await this.request(T.PUT_STATE, txid, toBinary(PutStateInfoSchema, create(PutStateInfoSchema, { key, value: v })))
      },
      delState: async (key: string) => {
        if (this.isTransaction.get(txid) !== true) throw new Error('Cannot del state in query context')
        await this.request(T.DEL_STATE, txid, enc.encode(key))
      }
    }
    return stub as unknown as ChaincodeStub
  }
}
