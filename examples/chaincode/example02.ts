// Fabric's chaincode_example02 in TypeScript: the same keys, values and error strings.
//   init a 100 b 200 · invoke <any> A B X (moves X from A to B) · invoke delete A · query query A
import type { ChaincodeStub } from '../../src/chaincode/shim/index.ts'
import { atoi, int64 } from './lib/go.ts'

const text = (b: Uint8Array): string => new TextDecoder().decode(b)

export async function init (stub: ChaincodeStub, _fn: string, args: string[]): Promise<void> {
  if (args.length !== 4) throw new Error('Incorrect number of arguments. Expecting 4')
  const [A, a, B, b] = args
  const aval = atoi(a)
  if (aval.err !== undefined) throw new Error('Expecting integer value for asset holding')
  const bval = atoi(b)
  if (bval.err !== undefined) throw new Error('Expecting integer value for asset holding')
  await stub.putState(A, aval.value.toString())
  await stub.putState(B, bval.value.toString())
}

export async function invoke (stub: ChaincodeStub, fn: string, args: string[]): Promise<void> {
  if (fn === 'delete') return await remove(stub, args)
  if (args.length !== 3) throw new Error('Incorrect number of arguments. Expecting 3')
  const [A, B] = args
  const aBytes = await read(stub, A)
  const bBytes = await read(stub, B)
  const x = atoi(args[2])
  if (x.err !== undefined) throw new Error('Invalid transaction amount, expecting a integer value')
  const aval = int64(atoi(text(aBytes)).value - x.value)
  const bval = int64(atoi(text(bBytes)).value + x.value)
  await stub.putState(A, aval.toString())
  await stub.putState(B, bval.toString())
}

async function read (stub: ChaincodeStub, key: string): Promise<Uint8Array> {
  let value: Uint8Array | undefined
  try {
    value = await stub.getState(key)
  } catch {
    throw new Error('Failed to get state')
  }
  if (value === undefined) throw new Error('Entity not found')
  return value
}

async function remove (stub: ChaincodeStub, args: string[]): Promise<void> {
  if (args.length !== 1) throw new Error('Incorrect number of arguments. Expecting 1')
  try {
    await stub.delState(args[0])
  } catch {
    throw new Error('Failed to delete state')
  }
}

export async function query (stub: ChaincodeStub, fn: string, args: string[]): Promise<Uint8Array> {
  if (fn !== 'query') throw new Error('Invalid query function name. Expecting "query"')
  if (args.length !== 1) throw new Error('Incorrect number of arguments. Expecting name of the person to query')
  const A = args[0]
  let value: Uint8Array | undefined
  try {
    value = await stub.getState(A)
  } catch {
    throw new Error(`{"Error":"Failed to get state for ${A}"}`)
  }
  if (value === undefined) throw new Error(`{"Error":"Nil amount for ${A}"}`)
  return value
}
