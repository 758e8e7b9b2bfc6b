// Runs inside a chaincode's Web Worker: the first message names the chaincode and carries its
// source; after that both sides exchange marshaled ChaincodeMessages.
import { portStream, type PortStream } from '../../src/chaincode/port-stream.ts'
import { asChaincode } from '../../src/chaincode/shim/chaincode.ts'
import { startChaincode } from '../../src/chaincode/shim/handler.ts'

export interface WorkerStart { name: string, source: string }
/** Sent instead of a ChaincodeMessage when the worker cannot go on. */
export interface WorkerFatal { fatal: string }

interface WorkerScope {
  onmessage: ((e: { data: unknown }) => void) | null
  onunhandledrejection: ((e: { reason: unknown }) => void) | null
  postMessage (data: unknown, transfer?: ArrayBuffer[]): void
  close (): void
}
const scope = globalThis as unknown as WorkerScope

let port: PortStream | undefined

function fatal (reason: unknown): void {
  const msg: WorkerFatal = { fatal: reason instanceof Error ? reason.message : String(reason) }
  scope.postMessage(msg)
  scope.close()
}

async function start ({ name, source }: WorkerStart): Promise<void> {
  port = portStream('peer', bytes => { scope.postMessage(bytes, [bytes.buffer as ArrayBuffer]) })
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }))
  const chaincode = asChaincode(await import(/* @vite-ignore */ url))
  URL.revokeObjectURL(url)
  await startChaincode(port.stream, name, chaincode)
  scope.close()
}

scope.onunhandledrejection = (e) => { fatal(e.reason) }
scope.onmessage = (e) => {
  if (port !== undefined) { port.deliver(e.data); return }
  start(e.data as WorkerStart).catch(fatal)
}
