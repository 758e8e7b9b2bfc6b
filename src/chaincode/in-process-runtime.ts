import { ChaincodeSpec_Type, type ChaincodeSpec } from '../protos/chaincode_pb.ts'
import { toBase64, utf8 } from '../crypto/bytes.ts'
import { createLogger } from '../util/logger.ts'
import { decodeNodePackage } from './package.ts'
import type { ChaincodeRuntime, LaunchedChaincode, LaunchRequest } from './runtime.ts'
import { asChaincode, type Chaincode } from './shim/chaincode.ts'
import { startChaincode } from './shim/handler.ts'
import { chaincodeStreamPair } from './stream.ts'
import type { ChaincodeSupport } from './support.ts'
import { errorMessage } from '../util/errors.ts'

const log = createLogger('chaincode')

/** Evaluates a NODE package's source as an ES module. */
export type ModuleLoader = (source: string) => Promise<unknown>

let loads = 0

/**
 * Loads module source through a data: URL, which Node and browsers both import. The fragment
 * makes every launch a fresh module instance (modules are cached by URL).
 */
export const dataUrlLoader: ModuleLoader = async (source) =>
  await import(/* @vite-ignore */ `data:text/javascript;base64,${toBase64(utf8(source))}#${++loads}`)

/**
 * Runs NODE chaincode in the peer's own thread. NO SANDBOX: a chaincode that loops forever
 * blocks the peer and one that throws asynchronously can crash it. For tests and demos only;
 * use the worker runtimes (node/chaincode, web/chaincode) for anything else.
 */
export function unsandboxedInProcessRuntime (load: ModuleLoader = dataUrlLoader): ChaincodeRuntime {
  const live = new Set<LaunchedChaincode>()
  return {
    name: 'in-process (no sandbox)',
    supports: (spec: ChaincodeSpec) => spec.type === ChaincodeSpec_Type.NODE,
    validate: (req: LaunchRequest) => { decodeNodePackage(req.codePackage) },
    async launch (req: LaunchRequest): Promise<LaunchedChaincode> {
      const chaincode = asChaincode(await load(decodeNodePackage(req.codePackage)))
      const launched = runInProcess(req.name, chaincode, true)
      live.add(launched)
      return {
        stream: launched.stream,
        cachesState: true,
        async kill () { live.delete(launched); await launched.kill() }
      }
    },
    async stop () {
      for (const l of [...live]) await l.kill()
      live.clear()
    }
  }
}

/** Starts a chaincode object in this thread; the returned stream is the peer's side. */
function runInProcess (name: string, chaincode: Chaincode, stateCache: boolean): LaunchedChaincode {
  const pair = chaincodeStreamPair({ chaincode: `in-process:${name}` })
  let killed = false
  startChaincode(pair.chaincode, name, chaincode, { stateCache }).catch((err: Error) => {
    if (!killed) log.info(`in-process chaincode ${name} ended: ${errorMessage(err)}`)
  })
  return {
    stream: pair.peer,
    async kill () {
      // A clean end of stream: whoever kills knows why, and the peer side needs no error for it.
      killed = true
      await pair.chaincode.close()
    }
  }
}

/**
 * Dev mode without a process: a chaincode object registers itself under `name`, as a chaincode
 * started by the user with CORE_CHAINCODE_ID_NAME=name would. Resolves once it is registered.
 */
export async function registerInProcessChaincode (support: ChaincodeSupport, name: string, chaincode: Chaincode): Promise<{ stop: () => Promise<void> }> {
  let stopListening = (): void => {}
  const registered = new Promise<void>(resolve => {
    stopListening = support.onRegister(n => { if (n === name) resolve() })
  })
  // A user's chaincode speaks Fabric's protocol only: no cache fields.
  const launched = runInProcess(name, chaincode, false)
  const served = support.handleStream(launched.stream)
  try {
    await Promise.race([registered, served.then(() => { throw new Error(`in-process chaincode ${name} could not register`) })])
  } finally {
    stopListening()
  }
  return {
    async stop () {
      await launched.kill()
      await served
    }
  }
}
