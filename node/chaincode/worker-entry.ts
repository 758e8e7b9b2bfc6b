// Runs inside a chaincode's worker thread: locks the realm down, evaluates the package in a
// Compartment (src/chaincode/confine.ts) and serves it to the peer over the thread's port,
// speaking marshaled ChaincodeMessages.
import '../../src/chaincode/lockdown.ts'
import { parentPort, workerData } from 'node:worker_threads'
import { confinedChaincode } from '../../src/chaincode/confine.ts'
import { portStream } from '../../src/chaincode/port-stream.ts'
import { startChaincode } from '../../src/chaincode/shim/handler.ts'

export interface WorkerData { name: string, source: string }

const port = parentPort
if (port === null) throw new Error('worker-entry.ts must run in a worker thread')
const { name, source } = workerData as WorkerData
const { stream, deliver } = portStream('peer', bytes => { port.postMessage(bytes, [bytes.buffer as ArrayBuffer]) })
port.on('message', deliver)

const prefix = `chaincode ${name.slice(0, 16)}:`
const chaincode = await confinedChaincode(source, (level, text) => {
  if (level === 'error' || level === 'warn') console.error(prefix, text)
  else console.log(prefix, text)
})
await startChaincode(stream, name, chaincode, { stateCache: true })
// The peer ended the stream: nothing is left to do, whatever the chaincode left pending.
process.exit(0)
