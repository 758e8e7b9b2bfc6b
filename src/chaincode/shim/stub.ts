import { create, toBinary } from '@bufbuild/protobuf'
import type { Timestamp } from '@bufbuild/protobuf/wkt'
import { ChaincodeEventSchema, type ChaincodeEvent } from '../../protos/chaincodeevent_pb.ts'
import {
  ChaincodeMessageSchema, ChaincodeMessage_Type as T, ChaincodeSecurityContextSchema, ChaincodeSpecSchema, PutStateInfoSchema, RangeQueryStateCloseSchema,
  RangeQueryStateNextSchema, RangeQueryStateResponseSchema, RangeQueryStateSchema,
  type ChaincodeMessage, type ChaincodeSecurityContext, type RangeQueryStateResponse
} from '../../protos/chaincode_pb.ts'
import { putStateRefusal } from '../cache-fields.ts'
import { ccMessage, decodePayload, payloadText } from '../messages.ts'
import type { TxState } from './state-cache.ts'

const enc = new TextEncoder()
const dec = new TextDecoder()
const bytesOf = (v: Uint8Array | string): Uint8Array => typeof v === 'string' ? enc.encode(v) : v

/** How the stub reaches the peer: one request, its RESPONSE (ERROR is thrown as its text). */
export interface StubChannel {
  request (msg: ChaincodeMessage): Promise<ChaincodeMessage>
}

/**
 * What chaincode calls (Fabric's shim.ChaincodeStub): its arguments, and the state and other
 * chaincodes, through the peer, inside the transaction or query it was called for. With a
 * TxState (a Weft runtime's transaction), reads the cache holds and all writes stay here until
 * the answer carries them; what the chaincode sees is the same.
 */
export class ChaincodeStub {
  /** Set by setEvent; sent with the transaction's answer (one event per transaction). */
  event?: ChaincodeEvent

  constructor (
    private readonly channel: StubChannel,
    private readonly txid: string,
    private readonly args: Uint8Array[],
    private readonly isTransaction: boolean,
    private readonly security: ChaincodeSecurityContext = create(ChaincodeSecurityContextSchema),
    private readonly state?: TxState
  ) {}

  getTxID (): string { return this.txid }
  /** The transaction's timestamp as the client set it (the same on every peer). */
  getTxTimestamp (): Timestamp | undefined { return this.security.txTimestamp }
  /** The submitter's certificate (its TCert, DER); empty for a transaction without security. */
  getCallerCertificate (): Uint8Array { return this.security.callerCert }
  /** The transaction's metadata as the submitter set it. */
  getCallerMetadata (): Uint8Array { return this.security.metadata }
  /** The hash of the caller's certificate and the transaction's nonce (security on), binding the call to this transaction. */
  getBinding (): Uint8Array { return this.security.binding }
  /** The marshaled ChaincodeInput the transaction carries. */
  getPayload (): Uint8Array { return this.security.payload }
  getArgs (): Uint8Array[] { return this.args }
  getStringArgs (): string[] { return this.args.map(a => dec.decode(a)) }
  /** The first argument and the rest, as Fabric passes them to Init / Invoke / Query. */
  getFunctionAndParameters (): { function: string, params: string[] } {
    const all = this.getStringArgs()
    return { function: all[0] ?? '', params: all.slice(1) }
  }

  /** The key's value, or undefined when it has none (an empty value cannot be stored). */
  async getState (key: string): Promise<Uint8Array | undefined> {
    const fetch = async (): Promise<Uint8Array | undefined> => {
      const r = await this.channel.request(ccMessage(T.GET_STATE, { txid: this.txid, payload: enc.encode(key) }))
      return r.payload.length === 0 ? undefined : r.payload
    }
    return this.state === undefined ? await fetch() : await this.state.get(key, fetch)
  }

  async putState (key: string, value: Uint8Array | string): Promise<void> {
    if (!this.isTransaction) throw new Error('Cannot put state in query context')
    if (this.state !== undefined) {
      // A copy: the chaincode may change its array after the call, as it may with a PUT_STATE sent.
      const own = typeof value === 'string' ? enc.encode(value) : value.slice()
      const refusal = putStateRefusal(key, own)
      if (refusal !== undefined) throw new Error(refusal)
      this.state.put(key, own)
      return
    }
    await this.sendPut(key, bytesOf(value))
  }

  async delState (key: string): Promise<void> {
    if (!this.isTransaction) throw new Error('Cannot del state in query context')
    if (this.state !== undefined) this.state.put(key, null)
    else await this.sendDel(key)
  }

  /**
   * Keys in [startKey, endKey] ('' = no end), in the peer's order (bucket order, not sorted).
   * Close the iterator when stopping early; it is also an async iterable.
   */
  async rangeQueryState (startKey: string, endKey: string): Promise<StateRangeIterator> {
    await this.sendWrites()
    const payload = toBinary(RangeQueryStateSchema, create(RangeQueryStateSchema, { startKey, endKey }))
    const first = await this.rangeRequest(ccMessage(T.RANGE_QUERY_STATE, { txid: this.txid, payload }))
    return new StateRangeIterator(first, async (id, close) => {
      const msg = close
        ? ccMessage(T.RANGE_QUERY_STATE_CLOSE, { txid: this.txid, payload: toBinary(RangeQueryStateCloseSchema, create(RangeQueryStateCloseSchema, { ID: id })) })
        : ccMessage(T.RANGE_QUERY_STATE_NEXT, { txid: this.txid, payload: toBinary(RangeQueryStateNextSchema, create(RangeQueryStateNextSchema, { ID: id })) })
      return await this.rangeRequest(msg)
    })
  }

  /** Invokes another chaincode within this transaction; its writes join this transaction's. */
  async invokeChaincode (name: string, args: Array<Uint8Array | string>): Promise<Uint8Array> {
    if (!this.isTransaction) throw new Error('Cannot invoke chaincode in query context')
    return await this.callChaincode(T.INVOKE_CHAINCODE, T.COMPLETED, name, args)
  }

  async queryChaincode (name: string, args: Array<Uint8Array | string>): Promise<Uint8Array> {
    return await this.callChaincode(T.INVOKE_QUERY, T.QUERY_COMPLETED, name, args)
  }

  /** Sets this transaction's chaincode event (a later call replaces an earlier one). */
  setEvent (name: string, payload: Uint8Array | string): void {
    this.event = create(ChaincodeEventSchema, { eventName: name, payload: bytesOf(payload) })
  }

  private async sendPut (key: string, value: Uint8Array): Promise<void> {
    const payload = toBinary(PutStateInfoSchema, create(PutStateInfoSchema, { key, value }))
    await this.channel.request(ccMessage(T.PUT_STATE, { txid: this.txid, payload }))
  }

  private async sendDel (key: string): Promise<void> {
    await this.channel.request(ccMessage(T.DEL_STATE, { txid: this.txid, payload: enc.encode(key) }))
  }

  /** Hands the kept writes to the peer, for a request that must see them there. */
  private async sendWrites (): Promise<void> {
    for (const [key, value] of this.state?.takeUnsent() ?? []) {
      if (value === null) await this.sendDel(key)
      else await this.sendPut(key, value)
    }
  }

  private async callChaincode (type: T, success: T, name: string, args: Array<Uint8Array | string>): Promise<Uint8Array> {
    await this.sendWrites()
    const spec = create(ChaincodeSpecSchema, { chaincodeID: { name }, ctorMsg: { args: args.map(bytesOf) } })
    const r = await this.channel.request(ccMessage(type, { txid: this.txid, payload: toBinary(ChaincodeSpecSchema, spec) }))
    const answer = decodePayload(ChaincodeMessageSchema, r.payload)
    if (answer.type !== success) throw new Error(payloadText(answer))
    return answer.payload
  }

  private async rangeRequest (msg: ChaincodeMessage): Promise<RangeQueryStateResponse> {
    const r = await this.channel.request(msg)
    try {
      return decodePayload(RangeQueryStateResponseSchema, r.payload)
    } catch {
      throw new Error('Error unmarshalling RangeQueryStateResponse.')
    }
  }
}

/** Walks a range query page by page (Fabric's StateRangeQueryIterator). */
export class StateRangeIterator implements AsyncIterable<{ key: string, value: Uint8Array }> {
  private at = 0

  constructor (
    private page: RangeQueryStateResponse,
    private readonly fetch: (id: string, close: boolean) => Promise<RangeQueryStateResponse>
  ) {}

  hasNext (): boolean { return this.at < this.page.keysAndValues.length || this.page.hasMore }

  async next (): Promise<{ key: string, value: Uint8Array }> {
    if (this.at >= this.page.keysAndValues.length) {
      if (!this.page.hasMore) throw new Error('No such key')
      this.page = await this.fetch(this.page.ID, false)
      this.at = 0
      if (this.page.keysAndValues.length === 0) throw new Error('No such key')
    }
    const kv = this.page.keysAndValues[this.at++]
    return { key: kv.key, value: kv.value }
  }

  async close (): Promise<void> {
    await this.fetch(this.page.ID, true)
  }

  async * [Symbol.asyncIterator] (): AsyncIterator<{ key: string, value: Uint8Array }> {
    while (this.hasNext()) yield await this.next()
  }
}
