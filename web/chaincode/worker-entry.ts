// Runs inside a chaincode's Web Worker: the first message names the chaincode and carries its
// source, which runs confined (src/chaincode/confine.ts); after that both sides exchange
// marshaled ChaincodeMessages.
import '../../src/chaincode/lockdown.ts'
import { confinedChaincode } from '../../src/chaincode/confine.ts'
import { portStream, type PortStream } from '../../src/chaincode/port-stream.ts'
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
  const prefix = `chaincode ${name.slice(0, 16)}:`
  const chaincode = await confinedChaincode(source, (level, text) => {
    if (level === 'error' || level === 'warn') console.warn(prefix, text)
    else console.log(prefix, text)
  })
  await startChaincode(port.stream, name, chaincode, { stateCache: true })
  scope.close()
}

scope.onunhandledrejection = (e) => { fatal(e.reason) }
scope.onmessage = (e) => {
  if (port !== undefined) { port.deliver(e.data); return }
  start(e.data as WorkerStart).catch(fatal)
}
