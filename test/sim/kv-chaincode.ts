// The simulation's chaincode, run by each replica's ChaincodeSupport through the in-process
// runtime: an invoke whose one argument is `key=value` writes that pair; anything else fails.
import { create } from '@bufbuild/protobuf'
import type { Timestamp } from '@bufbuild/protobuf/wkt'
import { unsandboxedInProcessRuntime } from '../../src/chaincode/in-process-runtime.ts'
import { nodeDeploymentSpec } from '../../src/chaincode/package.ts'
import type { ChaincodeRuntime } from '../../src/chaincode/runtime.ts'
import type { Chaincode } from '../../src/chaincode/shim/chaincode.ts'
import { newDeployTransaction, newExecuteTransaction } from '../../src/chaincode/transactions.ts'
import { utf8 } from '../../src/crypto/bytes.ts'
import { ChaincodeInvocationSpecSchema, ChaincodeSpec_Type } from '../../src/protos/chaincode_pb.ts'
import { Transaction_Type, type Transaction } from '../../src/protos/fabric_pb.ts'

/**
 * The package only names the chaincode: the runtime's loader hands back kvChaincode instead of
 * evaluating source, since an import() settles on the host's event loop, outside virtual time,
 * and would make a run depend on the machine.
 */
const source = '// weft simulation: invoke `key=value` writes that pair\n'
const spec = nodeDeploymentSpec(source, ['init'])
export const kvChaincodeName = spec.chaincodeSpec!.chaincodeID!.name

/** What a replica sees of its chaincode's work. */
export interface KvHooks {
  /** Called with the txid of each deploy and invoke the chaincode runs. */
  executed (txid: string): void
  /** While it returns a promise, invokes wait for it (a slow or blocked chaincode). */
  gate (): Promise<void> | undefined
}

export function kvChaincode (hooks: KvHooks): Chaincode {
  return {
    init (stub) { hooks.executed(stub.getTxID()) },
    async invoke (stub, fn, args) {
      hooks.executed(stub.getTxID())
      await hooks.gate()
      const m = /^([^=]+)=(.*)$/s.exec(fn)
      if (m === null || args.length > 0) throw new Error('payload is not key=value')
      await stub.putState(m[1], m[2])
    },
    async query (stub, fn) { return await stub.getState(fn) }
  }
}

export function kvRuntime (hooks: KvHooks): ChaincodeRuntime {
  return unsandboxedInProcessRuntime(async s => {
    if (s !== source) throw new Error('the simulation runs only its own chaincode')
    return kvChaincode(hooks)
  })
}

/** The deploy every cluster starts with: its txid is the chaincode name, as Fabric's. */
export function kvDeploy (timestamp: Timestamp): Transaction {
  return newDeployTransaction(spec, kvChaincodeName, timestamp)
}

/** An invoke of the chaincode with `payload` as its one argument. */
export function kvInvoke (txid: string, payload: string, timestamp: Timestamp): Transaction {
  const cis = create(ChaincodeInvocationSpecSchema, {
    chaincodeSpec: { type: ChaincodeSpec_Type.NODE, chaincodeID: { name: kvChaincodeName }, ctorMsg: { args: [utf8(payload)] } }
  })
  return newExecuteTransaction(cis, txid, Transaction_Type.CHAINCODE_INVOKE, timestamp)
}
