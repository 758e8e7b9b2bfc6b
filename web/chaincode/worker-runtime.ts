import { ChaincodeSpec_Type, type ChaincodeSpec } from '../../src/protos/chaincode_pb.ts'
import { moduleToScript } from '../../src/chaincode/confine.ts'
import { decodeNodePackage } from '../../src/chaincode/package.ts'
import { portStream } from '../../src/chaincode/port-stream.ts'
import type { ChaincodeRuntime, LaunchedChaincode, LaunchRequest } from '../../src/chaincode/runtime.ts'
import type { WorkerFatal, WorkerStart } from './worker-entry.ts'

/**
 * Runs each NODE chaincode in its own Web Worker, confined to a SES Compartment as in Node
 * (src/chaincode/confine.ts): no fetch, WebSocket, IndexedDB, timers or importScripts. A chaincode that throws or crashes takes
 * down only its worker, and ChaincodeSupport terminates one that stops answering; browsers
 * offer no heap cap per worker, so a runaway allocation is bounded only by the tab's memory.
 */
export function webWorkerRuntime (): ChaincodeRuntime {
  const live = new Set<LaunchedChaincode>()
  return {
    name: 'web-worker',
    supports: (spec: ChaincodeSpec) => spec.type === ChaincodeSpec_Type.NODE,
    validate: (req: LaunchRequest) => { moduleToScript(decodeNodePackage(req.codePackage)) },
    async launch (req: LaunchRequest): Promise<LaunchedChaincode> {
      const launched = startWorker(req, () => live.delete(launched))
      live.add(launched)
      return launched
    },
    async stop () {
      await Promise.all([...live].map(async l => { await l.kill() }))
    }
  }
}

function startWorker (req: LaunchRequest, onGone: () => void): LaunchedChaincode {
  const worker = new Worker(new URL('./worker-entry.ts', import.meta.url), { type: 'module', name: `chaincode ${req.name.slice(0, 16)}` })
  const { stream, deliver, end } = portStream(`web-worker:${req.name}`, bytes => { worker.postMessage(bytes, [bytes.buffer as ArrayBuffer]) })
  let gone = false
  const finish = (err?: Error): void => {
    if (gone) return
    gone = true
    worker.terminate()
    onGone()
    end(err)
  }
  worker.onmessage = (e: MessageEvent) => {
    const data: unknown = e.data
    if (typeof data === 'object' && data !== null && 'fatal' in data) finish(new Error(`chaincode ${req.name} crashed: ${(data as WorkerFatal).fatal}`))
    else deliver(data)
  }
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault()
    finish(new Error(`chaincode ${req.name} crashed: ${e.message}`))
  }
  const start: WorkerStart = { name: req.name, source: decodeNodePackage(req.codePackage) }
  worker.postMessage(start)
  return {
    stream,
    // Weft's own shim runs in the worker: it keeps a cache of its namespace (src/chaincode/README.md).
    cachesState: true,
    async kill () { finish() }
  }
}
