import { create, toBinary } from '@bufbuild/protobuf'
import { ChaincodeIDSchema, ChaincodeInputSchema, ChaincodeMessage_Type as T, type ChaincodeMessage } from '../../protos/chaincode_pb.ts'
import { createLogger } from '../../util/logger.ts'
import { cacheFieldsOf, setCacheFields } from '../cache-fields.ts'
import { ccMessage, decodePayload, errorMessage, payloadText, shortTxid, typeName } from '../messages.ts'
import type { ChaincodeStream } from '../stream.ts'
import { errorText, resultBytes, type Chaincode } from './chaincode.ts'
import { StateCache, type TxState } from './state-cache.ts'
import { ChaincodeStub, type StubChannel } from './stub.ts'
import { errorMessage as describeError } from '../../util/errors.ts'

const log = createLogger('shim')

type ShimState = 'created' | 'established' | 'init' | 'ready' | 'transaction'

export interface ShimOptions {
  onRegistered?: () => void
  /**
   * The peer is Weft and launched this chaincode in a runtime of its own: its transactions may
   * carry Weft's cache fields (src/chaincode/cache-fields.ts). Never for a chaincode that dials a
   * peer, which may be Fabric's.
   */
  stateCache?: boolean
}

/**
 * Runs a chaincode over a Register stream, as Fabric's Go shim does: sends REGISTER with its
 * name, waits for REGISTERED, then serves INIT / READY / TRANSACTION / QUERY. Resolves when
 * the peer ends the stream; rejects on a protocol error (after telling the peer).
 */
export async function startChaincode (stream: ChaincodeStream, name: string, chaincode: Chaincode, options: ShimOptions = {}): Promise<void> {
  if (name === '') throw new Error('Error chaincode id not provided')
  await new ShimHandler(stream, chaincode, options.onRegistered, options.stateCache === true ? new StateCache() : undefined).run(name)
}

class ShimHandler implements StubChannel {
  private state: ShimState = 'created'
  /** The one request each txid has outstanding, waiting for its RESPONSE or ERROR. */
  private readonly pending = new Map<string, { resolve: (m: ChaincodeMessage) => void, reject: (e: Error) => void }>()
  /** Requests of one txid go out one after another, as the protocol allows one at a time. */
  private readonly lanes = new Map<string, Promise<unknown>>()
  /** Transactions the peer sent ahead, waiting for the one running to answer. */
  private readonly queued: ChaincodeMessage[] = []

  constructor (
    private readonly stream: ChaincodeStream,
    private readonly chaincode: Chaincode,
    private readonly onRegistered?: () => void,
    private readonly cache?: StateCache
  ) {}

  async run (name: string): Promise<void> {
    await this.stream.send(ccMessage(T.REGISTER, { payload: toBinary(ChaincodeIDSchema, create(ChaincodeIDSchema, { name })) }))
    try {
      for (;;) {
        const msg = await this.stream.recv()
        if (msg === undefined) return
        await this.handleMessage(msg)
      }
    } finally {
      for (const p of this.pending.values()) p.reject(new Error('the peer ended the chaincode stream'))
      this.pending.clear()
    }
  }

  private async handleMessage (msg: ChaincodeMessage): Promise<void> {
    const at = this.state
    switch (msg.type) {
      case T.KEEPALIVE:
        await this.stream.send(msg)
        return
      case T.REGISTERED:
        if (at === 'created') { this.state = 'established'; this.onRegistered?.(); return }
        break
      case T.INIT:
        if (at === 'established') { this.state = 'init'; this.execute(msg, 'init'); return }
        break
      case T.READY:
        if (at === 'established') { this.state = 'ready'; return }
        break
      case T.TRANSACTION:
        if (at === 'ready') { this.state = 'transaction'; this.execute(msg, 'invoke'); return }
        // A Weft peer sends a batch's transactions ahead; they run one after another, in order.
        if (at === 'transaction' && this.cache !== undefined && cacheFieldsOf(msg) !== undefined) { this.queued.push(msg); return }
        break
      case T.QUERY:
        if (at === 'ready' || at === 'transaction') { this.execute(msg, 'query'); return }
        break
      case T.RESPONSE:
      case T.ERROR: {
        const p = this.pending.get(msg.txid)
        if (p !== undefined) {
          this.pending.delete(msg.txid)
          p.resolve(msg)
          return
        }
        if (msg.type === T.ERROR) {
          log.error(`[${shortTxid(msg.txid)}]peer sent error: ${payloadText(msg)}`)
          return
        }
        break
      }
    }
    const text = `[${msg.txid}]Chaincode handler FSM cannot handle message (${typeName(msg.type)}) with payload size (${msg.payload.length}) while in state: ${at}`
    await this.stream.send(errorMessage(msg.txid, text)).catch(() => {})
    throw new Error(text)
  }

  /** Runs init, invoke or query for one message and sends its answer; never throws. */
  private execute (msg: ChaincodeMessage, fn: 'init' | 'invoke' | 'query'): void {
    const isQuery = fn === 'query'
    // INIT's writes go to the peer one by one, as does everything outside a cache session.
    const state = isQuery ? undefined : this.cache?.begin(fn === 'invoke' ? cacheFieldsOf(msg)?.session ?? 0 : 0)
    const answer = async (): Promise<ChaincodeMessage> => {
      let stub: ChaincodeStub | undefined
      try {
        // Fabric's Go shim takes the args from the security context's copy of the ctorMsg.
        const input = decodePayload(ChaincodeInputSchema, msg.securityContext?.payload ?? msg.payload)
        stub = new ChaincodeStub(this, msg.txid, input.args, !isQuery, msg.securityContext, state)
        const { function: f, params } = stub.getFunctionAndParameters()
        const payload = resultBytes(await this.chaincode[fn](stub, f, params))
        return withWrites(ccMessage(isQuery ? T.QUERY_COMPLETED : T.COMPLETED, { txid: msg.txid, payload, chaincodeEvent: isQuery ? undefined : stub.event }), state)
      } catch (err) {
        const m = errorMessage(msg.txid, errorText(err), isQuery ? T.QUERY_ERROR : T.ERROR)
        if (!isQuery) m.chaincodeEvent = stub?.event
        return withWrites(m, state)
      }
    }
    void answer().then(async reply => {
      if (!isQuery) this.state = fn === 'init' && reply.type === T.ERROR ? 'established' : 'ready'
      const sent = this.stream.send(reply)
      const next = isQuery ? undefined : this.queued.shift()
      if (next !== undefined) {
        this.state = 'transaction'
        this.execute(next, 'invoke')
      }
      await sent
    }).catch((err: unknown) => { log.error(`[${shortTxid(msg.txid)}]could not answer ${typeName(msg.type)}: ${describeError(err)}`) })
  }

  /** StubChannel: sends one request once the txid's previous one is answered. */
  async request (msg: ChaincodeMessage): Promise<ChaincodeMessage> {
    const before = this.lanes.get(msg.txid) ?? Promise.resolve()
    const mine = before.catch(() => {}).then(async () => await this.exchange(msg))
    this.lanes.set(msg.txid, mine)
    try {
      return await mine
    } finally {
      if (this.lanes.get(msg.txid) === mine) this.lanes.delete(msg.txid)
    }
  }

  private async exchange (msg: ChaincodeMessage): Promise<ChaincodeMessage> {
    const reply = new Promise<ChaincodeMessage>((resolve, reject) => { this.pending.set(msg.txid, { resolve, reject }) })
    try {
      await this.stream.send(msg)
    } catch (err) {
      this.pending.delete(msg.txid)
      throw new Error(`could not send ${typeName(msg.type)}: ${errorText(err)}`)
    }
    const r = await reply
    if (r.type === T.ERROR) throw new Error(payloadText(r))
    if (r.type !== T.RESPONSE) throw new Error('Incorrect chaincode message received')
    return r
  }
}

/**
 * A transaction's answer carries the writes it kept (a failed one's too: a calling chaincode may
 * go on and commit them, as it would have had they been sent one by one).
 */
function withWrites (reply: ChaincodeMessage, state: TxState | undefined): ChaincodeMessage {
  if (state === undefined) return reply
  setCacheFields(reply, { session: 0, writes: state.takeUnsent() })
  state.finish(reply.type === T.COMPLETED)
  return reply
}
