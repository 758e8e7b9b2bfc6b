import { Worker } from 'node:worker_threads'
import { ChaincodeSpec_Type, type ChaincodeSpec } from '../../src/protos/chaincode_pb.ts'
import { moduleToScript } from '../../src/chaincode/confine.ts'
import { decodeNodePackage } from '../../src/chaincode/package.ts'
import { portStream } from '../../src/chaincode/port-stream.ts'
import type { ChaincodeRuntime, LaunchedChaincode, LaunchRequest } from '../../src/chaincode/runtime.ts'
import type { WorkerData } from './worker-entry.ts'

export interface WorkerRuntimeInit {
  /** V8 heap limit of each chaincode thread in MB; past it the thread dies, not the peer (default 128). */
  maxMemoryMb?: number
  /** Stack of each chaincode thread in MB (default 4). */
  stackSizeMb?: number
}

/**
 * Runs each NODE chaincode in its own worker_threads thread with a capped heap, confined to a
 * SES Compartment (src/chaincode/confine.ts): no node: modules, process, file system or network.
 * A chaincode that crashes or runs out of memory takes down only its thread; ChaincodeSupport
 * kills one that stops answering and starts it again on next use.
 */
export function workerRuntime (init: WorkerRuntimeInit = {}): ChaincodeRuntime {
  const live = new Set<LaunchedChaincode>()
  return {
    name: 'worker_threads',
    supports: (spec: ChaincodeSpec) => spec.type === ChaincodeSpec_Type.NODE,
    validate: (req: LaunchRequest) => { moduleToScript(decodeNodePackage(req.codePackage)) },
    async launch (req: LaunchRequest): Promise<LaunchedChaincode> {
      const launched = startWorker(req, init, () => live.delete(launched))
      live.add(launched)
      return launched
    },
    async stop () {
      await Promise.all([...live].map(async l => { await l.kill() }))
    }
  }
}

function startWorker (req: LaunchRequest, init: WorkerRuntimeInit, onGone: () => void): LaunchedChaincode {
  const data: WorkerData = { name: req.name, source: decodeNodePackage(req.codePackage) }
  const worker = new Worker(new URL('./worker-bootstrap.mjs', import.meta.url), {
    workerData: data,
    // The chaincode sees its name, as a Fabric chaincode does, and none of the peer's environment.
    env: { CORE_CHAINCODE_ID_NAME: req.name },
    resourceLimits: { maxOldGenerationSizeMb: init.maxMemoryMb ?? 128, stackSizeMb: init.stackSizeMb ?? 4 }
  })
  const remote = `worker:${req.name}#${worker.threadId}`
  const { stream, deliver, end } = portStream(remote, bytes => { worker.postMessage(bytes, [bytes.buffer as ArrayBuffer]) }, undefined, {
    // The executor sends transactions ahead several at a time (Handler.sendAhead).
    post: packed => { worker.postMessage(packed, [packed]) },
    defer: queueMicrotask
  })
  let killed = false
  let crash: Error | undefined
  worker.on('message', deliver)
  // The handler logs how its stream ended; the error names the thread's fate. It ends the stream
  // at 'exit', once Node has delivered what the thread posted before it died (answers to the
  // transactions before the one that crashed it).
  worker.on('error', err => { crash = new Error(`chaincode ${req.name} crashed: ${err.message}`) })
  worker.on('exit', code => {
    onGone()
    if (killed) end()
    else end(crash ?? new Error(`chaincode ${req.name} exited with code ${code}`))
  })
  return {
    stream,
    cachesState: true,
    async kill () {
      if (killed) return
      killed = true
      end()
      await worker.terminate()
    }
  }
}
