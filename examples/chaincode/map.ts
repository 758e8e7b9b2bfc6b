// Fabric's map example in TypeScript: invoke put K V / remove K; query get K / keys (a range query).
import type { ChaincodeStub } from '../../src/chaincode/shim/index.ts'
import { goJSONString } from './lib/go.ts'

export function init (): void {}

export async function invoke (stub: ChaincodeStub, fn: string, args: string[]): Promise<void> {
  switch (fn) {
    case 'put':
      if (args.length < 2) throw new Error('put operation must include two arguments, a key and value')
      try {
        await stub.putState(args[0], args[1])
      } catch (err) {
        throw new Error(`put operation failed. Error updating state: ${(err as Error).message}`)
      }
      return
    case 'remove':
      if (args.length < 1) throw new Error('remove operation must include one argument, a key')
      try {
        await stub.delState(args[0])
      } catch (err) {
        throw new Error(`remove operation failed. Error updating state: ${(err as Error).message}`)
      }
      return
    default:
      throw new Error('Unsupported operation')
  }
}

export async function query (stub: ChaincodeStub, fn: string, args: string[]): Promise<Uint8Array | string | undefined> {
  switch (fn) {
    case 'get': {
      if (args.length < 1) throw new Error('get operation must include one argument, a key')
      try {
        return await stub.getState(args[0])
      } catch (err) {
        throw new Error(`get operation failed. Error accessing state: ${(err as Error).message}`)
      }
    }
    case 'keys': {
      let iter
      try {
        iter = await stub.rangeQueryState('', '')
      } catch (err) {
        throw new Error(`keys operation failed. Error accessing state: ${(err as Error).message}`)
      }
      const keys: string[] = []
      try {
        while (iter.hasNext()) {
          try {
            keys.push((await iter.next()).key)
          } catch {
            // The Go original formats its (nil) outer error here.
            throw new Error('keys operation failed. Error accessing state: %!s(<nil>)')
          }
        }
      } finally {
        await iter.close().catch(() => {})
      }
      // json.Marshal of a nil slice is null.
      return keys.length === 0 ? 'null' : `[${keys.map(goJSONString).join(',')}]`
    }
    default:
      throw new Error('Unsupported operation')
  }
}
