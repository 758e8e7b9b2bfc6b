import type { ChaincodeStub } from './stub.ts'

/** What init / invoke / query may return: bytes, a string (sent as UTF-8), or nothing. */
export type ChaincodeResult = Uint8Array | string | undefined | null | void

/**
 * A chaincode (Fabric's shim.Chaincode): a module exporting these three functions. `fn` and
 * `args` are the constructor's or call's first argument and the rest, as strings; throw to fail.
 */
export interface Chaincode {
  init (stub: ChaincodeStub, fn: string, args: string[]): ChaincodeResult | Promise<ChaincodeResult>
  invoke (stub: ChaincodeStub, fn: string, args: string[]): ChaincodeResult | Promise<ChaincodeResult>
  query (stub: ChaincodeStub, fn: string, args: string[]): ChaincodeResult | Promise<ChaincodeResult>
}

/** Checks that a loaded module is a chaincode; the error says what is missing. */
export function asChaincode (mod: unknown): Chaincode {
  const m = mod as Partial<Record<keyof Chaincode, unknown>> | null
  const missing = (['init', 'invoke', 'query'] as const).filter(f => typeof m?.[f] !== 'function')
  if (missing.length > 0) throw new Error(`a chaincode module must export functions init, invoke and query; missing: ${missing.join(', ')}`)
  return m as Chaincode
}

export function resultBytes (r: ChaincodeResult): Uint8Array {
  if (r === undefined || r === null) return new Uint8Array(0)
  if (typeof r === 'string') return new TextEncoder().encode(r)
  if (r instanceof Uint8Array) return r
  throw new Error(`a chaincode must return a Uint8Array, a string or nothing, not ${typeof r}`)
}

export function errorText (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
