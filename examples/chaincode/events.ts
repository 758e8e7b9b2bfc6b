// Fabric's eventsender example in TypeScript: every invoke counts and emits one chaincode event
// "evtsender" with payload "Event <count>,<arg>,<arg>…"; query answers {"NoEvents":"<count>"}.
import type { ChaincodeStub } from '../../src/chaincode/shim/index.ts'
import { atoi, int64 } from './lib/go.ts'

const text = (b: Uint8Array | undefined): string => b === undefined ? '' : new TextDecoder().decode(b)

export async function init (stub: ChaincodeStub): Promise<void> {
  await stub.putState('noevents', '0')
}

export async function invoke (stub: ChaincodeStub, _fn: string, args: string[]): Promise<void> {
  let b: string
  try {
    b = text(await stub.getState('noevents'))
  } catch {
    throw new Error('Failed to get state')
  }
  const count = atoi(b).value
  const payload = ['Event ' + b, ...args].join(',')
  await stub.putState('noevents', int64(count + 1n).toString())
  stub.setEvent('evtsender', payload)
}

export async function query (stub: ChaincodeStub): Promise<string> {
  let b: string
  try {
    b = text(await stub.getState('noevents'))
  } catch {
    throw new Error('Failed to get state')
  }
  return `{"NoEvents":"${b}"}`
}
