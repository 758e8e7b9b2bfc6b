import { create, toBinary } from '@bufbuild/protobuf'
import {
  ChaincodeMessageSchema, ChaincodeSpecSchema, PutStateInfoSchema, RangeQueryStateCloseSchema,
  RangeQueryStateNextSchema, RangeQueryStateResponseSchema, RangeQueryStateSchema,
  type ChaincodeID, type ChaincodeMessage, type ChaincodeSpec
} from '../protos/chaincode_pb.ts'
import { Transaction_Type } from '../protos/fabric_pb.ts'
import type { Ledger } from '../ledger/ledger.ts'
import type { StateEncryptor } from '../security/confidentiality.ts'
import { putStateRefusal } from './cache-fields.ts'
import { ccMessage, decodePayload, errorMessage, MsgType, typeName } from './messages.ts'
import { RangeCursor } from './range-cursor.ts'
import type { TxContext } from './tx-context.ts'

/** What serving a request needs from ChaincodeSupport. */
export interface RequestHost {
  readonly ledger: Ledger
  /**
   * Runs another chaincode inside the caller's transaction (same txid, same ledger transaction)
   * and gives back its answer (COMPLETED / ERROR / QUERY_COMPLETED / QUERY_ERROR).
   */
  callChaincode (spec: ChaincodeSpec, txid: string, type: Transaction_Type.CHAINCODE_INVOKE | Transaction_Type.CHAINCODE_QUERY, caller: TxContext | undefined): Promise<ChaincodeMessage>
}

/** What serving a request needs from the handler it came on (a Handler is one). */
export interface RequestSource {
  readonly chaincodeID?: ChaincodeID
  readonly host: RequestHost
  txContext (txid: string): TxContext | undefined
  /** A new range iterator id for `txid`. */
  nextCursorId (txid: string): string
  /** Whether `txid`'s reads see committed state (a query) rather than its own writes. */
  readsCommitted (txid: string): boolean
  /** The state encryptor when `txid` is a confidential transaction; undefined for a public one. */
  stateCipher (txid: string): StateEncryptor | undefined
}

const response = (txid: string, payload?: Uint8Array): ChaincodeMessage => ccMessage(MsgType.RESPONSE, { txid, payload })

/** GET_STATE and the RANGE_QUERY_STATE family: answered with RESPONSE or ERROR, no state change. */
export async function serveReadRequest (h: RequestSource, msg: ChaincodeMessage): Promise<ChaincodeMessage> {
  const name = h.chaincodeID!.name
  const committed = h.readsCommitted(msg.txid)
  switch (msg.type) {
    case MsgType.GET_STATE: {
      const value = await h.host.ledger.getState(name, new TextDecoder().decode(msg.payload), committed)
      // A key that is not there has nothing to decrypt.
      if (value === undefined || value === null) return response(msg.txid)
      return response(msg.txid, h.stateCipher(msg.txid)?.decrypt(value) ?? value)
    }
    case MsgType.RANGE_QUERY_STATE: {
      const ctx = requireContext(h, msg)
      const q = decodePayload(RangeQueryStateSchema, msg.payload)
      const cursor = new RangeCursor(h.host.ledger.rangeScan(name, q.startKey, q.endKey, committed))
      const id = h.nextCursorId(msg.txid)
      return await pageOf(ctx, id, cursor, h.stateCipher(msg.txid))
    }
    case MsgType.RANGE_QUERY_STATE_NEXT: {
      const ctx = requireContext(h, msg)
      const q = decodePayload(RangeQueryStateNextSchema, msg.payload)
      const cursor = ctx.cursors.get(q.ID)
      if (cursor === undefined) return errorMessage(msg.txid, 'Range query iterator not found')
      return await pageOf(ctx, q.ID, cursor, h.stateCipher(msg.txid))
    }
    case MsgType.RANGE_QUERY_STATE_CLOSE: {
      const ctx = requireContext(h, msg)
      const q = decodePayload(RangeQueryStateCloseSchema, msg.payload)
      await ctx.cursors.get(q.ID)?.close()
      ctx.cursors.delete(q.ID)
      return response(msg.txid, toBinary(RangeQueryStateResponseSchema, create(RangeQueryStateResponseSchema, { hasMore: false, ID: q.ID })))
    }
    default:
      throw new Error(`${typeName(msg.type)} is not a read request`)
  }
}

function requireContext (h: RequestSource, msg: ChaincodeMessage): TxContext {
  const ctx = h.txContext(msg.txid)
  if (ctx === undefined) throw new Error(`[${msg.txid}]no transaction or query in progress for ${typeName(msg.type)}`)
  return ctx
}

async function pageOf (ctx: TxContext, id: string, cursor: RangeCursor, cipher: StateEncryptor | undefined): Promise<ChaincodeMessage> {
  try {
    const page = await cursor.page()
    const { hasMore } = page
    const kvs = cipher === undefined ? page.kvs : page.kvs.map(([key, value]): [string, Uint8Array] => [key, cipher.decrypt(value)])
    if (hasMore) ctx.cursors.set(id, cursor)
    else {
      await cursor.close()
      ctx.cursors.delete(id)
    }
    const payload = create(RangeQueryStateResponseSchema, { keysAndValues: kvs.map(([key, value]) => ({ key, value })), hasMore, ID: id })
    return response(ctx.txid, toBinary(RangeQueryStateResponseSchema, payload))
  } catch (err) {
    await cursor.close()
    ctx.cursors.delete(id)
    throw err
  }
}

/** PUT_STATE, DEL_STATE, INVOKE_CHAINCODE (inside a transaction) and INVOKE_QUERY. */
export async function serveBusyRequest (h: RequestSource, msg: ChaincodeMessage): Promise<ChaincodeMessage> {
  const name = h.chaincodeID!.name
  const ledger = h.host.ledger
  switch (msg.type) {
    case MsgType.PUT_STATE: {
      const info = decodePayload(PutStateInfoSchema, msg.payload)
      // Fabric encrypts first: a confidential chaincode may store an empty value.
      const value = h.stateCipher(msg.txid)?.encrypt(info.value) ?? info.value
      const refusal = putStateRefusal(info.key, value)
      if (refusal !== undefined) throw new Error(refusal)
      await ledger.setState(name, info.key, value)
      return response(msg.txid)
    }
    case MsgType.DEL_STATE:
      await ledger.deleteState(name, new TextDecoder().decode(msg.payload))
      return response(msg.txid)
    case MsgType.INVOKE_CHAINCODE:
    case MsgType.INVOKE_QUERY: {
      // Fabric has no confidentiality for one chaincode calling another.
      if (h.stateCipher(msg.txid) !== undefined) throw new Error(`[${msg.txid.slice(0, 8)}]Error chaincode-chaincode interactions not supported for with privacy enabled. Sending ERROR`)
      const spec = decodePayload(ChaincodeSpecSchema, msg.payload)
      if (spec.chaincodeID === undefined || spec.chaincodeID.name === '') throw new Error('the chaincode to call has no name')
      const type = msg.type === MsgType.INVOKE_CHAINCODE ? Transaction_Type.CHAINCODE_INVOKE : Transaction_Type.CHAINCODE_QUERY
      const answer = await h.host.callChaincode(spec, msg.txid, type, h.txContext(msg.txid))
      // The callee's whole answer goes back marshaled; the caller's shim reads its type and payload.
      return response(msg.txid, toBinary(ChaincodeMessageSchema, answer))
    }
    default:
      throw new Error(`${typeName(msg.type)} is not a state-changing request`)
  }
}
