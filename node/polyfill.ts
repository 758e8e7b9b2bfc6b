// Node 20 lacks two globals that libp2p 3 relies on (see PLATFORM.md):
// Promise.withResolvers, and a global WebSocket for dialling /ws addresses.
// Every Node entry point (CLI, tests, benchmarks) imports this module first.
import { WebSocket as NodeWebSocket } from 'ws'
// Not a shim, but every Node entry point loads this module first, which is what that needs.
import './native-hash.ts'

if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T> () {
      let resolve!: (value: T | PromiseLike<T>) => void
      let reject!: (reason?: unknown) => void
      const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    }
  })
}

if (typeof globalThis.WebSocket !== 'function') {
  Object.defineProperty(globalThis, 'WebSocket', { configurable: true, writable: true, value: NodeWebSocket })
}
