// Runs inside a chaincode's worker thread: loads the package's module and serves it to the
// peer over the thread's port, speaking marshaled ChaincodeMessages.
import { parentPort, workerData } from 'node:worker_threads'
import { portStream } from '../../src/chaincode/port-stream.ts'
import { asChaincode } from '../../src/chaincode/shim/chaincode.ts'
import { startChaincode } from '../../src/chaincode/shim/handler.ts'

export interface WorkerData { name: string, source: string }

const port = parentPort
if (port === null) throw new Error('worker-entry.ts must run in a worker thread')
const { name, source } = workerData as WorkerData
const { stream, deliver } = portStream('peer', bytes => { port.postMessage(bytes, [bytes.buffer as ArrayBuffer]) })
port.on('message', deliver)

const chaincode = asChaincode(await import(`data:text/javascript;base64,${Buffer.from(source, 'utf8').toString('base64')}`))
await startChaincode(stream, name, chaincode)
// The peer ended the stream: nothing is left to do, whatever timers the chaincode left behind.
process.exit(0)
