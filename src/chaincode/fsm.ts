import { ChaincodeMessage_Type as T } from '../protos/chaincode_pb.ts'

/**
 * The peer-side states of a chaincode handler (core/chaincode/handler.go):
 * created → (REGISTER) established → (INIT) init | (READY) ready → (TRANSACTION) transaction,
 * with busy states while a PUT_STATE / DEL_STATE / INVOKE_CHAINCODE is being served.
 */
export type HandlerState = 'created' | 'established' | 'init' | 'ready' | 'transaction' | 'busyinit' | 'busyxact' | 'end'

const readers: Partial<Record<HandlerState, HandlerState>> = {
  ready: 'ready', init: 'init', busyinit: 'busyinit', transaction: 'transaction', busyxact: 'busyxact'
}
const writers: Partial<Record<HandlerState, HandlerState>> = { transaction: 'busyxact', init: 'busyinit' }

/** Event (message type) → source state → destination state, exactly Fabric's table. */
const transitions: Partial<Record<T, Partial<Record<HandlerState, HandlerState>>>> = {
  [T.REGISTER]: { created: 'established' },
  [T.INIT]: { established: 'init' },
  [T.READY]: { established: 'ready' },
  [T.TRANSACTION]: { ready: 'transaction' },
  [T.PUT_STATE]: writers,
  [T.DEL_STATE]: writers,
  [T.INVOKE_CHAINCODE]: writers,
  [T.COMPLETED]: { init: 'ready', ready: 'ready', transaction: 'ready' },
  [T.GET_STATE]: readers,
  [T.RANGE_QUERY_STATE]: readers,
  [T.RANGE_QUERY_STATE_NEXT]: readers,
  [T.RANGE_QUERY_STATE_CLOSE]: readers,
  [T.ERROR]: { init: 'end', transaction: 'ready', busyinit: 'init', busyxact: 'transaction' },
  [T.RESPONSE]: { busyinit: 'init', busyxact: 'transaction' }
}

/** Where `event` leads from `state`, or undefined when the FSM cannot take it there. */
export function nextState (state: HandlerState, event: T): HandlerState | undefined {
  return transitions[event]?.[state]
}

/** Fabric's isRunning: a handler past its INIT/READY handshake. */
export function isRunningState (state: HandlerState): boolean {
  return state !== 'created' && state !== 'established' && state !== 'init'
}
