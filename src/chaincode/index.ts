// The chaincode layer: ChaincodeSupport and its handler FSM, the executor entry points,
// runtimes, NODE packages, the legacy-chain replay, and the shim chaincode is written against.
export { ChaincodeSupport, type ChaincodeSupportInit, type Launched } from './support.ts'
export { executeTransactions, executeTransaction, executeQuery, type ExecutionContext, type ExecutionOutcome, type BatchOutcome } from './executor.ts'
export type { ChaincodeRuntime, LaunchedChaincode, LaunchRequest } from './runtime.ts'
export { unsandboxedInProcessRuntime, registerInProcessChaincode, dataUrlLoader, type ModuleLoader } from './in-process-runtime.ts'
export { chaincodeStreamPair, Inbox, type ChaincodeStream } from './stream.ts'
export { portStream, type PortStream } from './port-stream.ts'
export { decodeNodePackage, nodeChaincodeName, nodeDeploymentSpec } from './package.ts'
export { newDeployTransaction, newExecuteTransaction } from './transactions.ts'
export { replayLegacyChain, legacyExampleChaincodes, type LegacyChainVector, type ReplayResult, type ReplayedBlock, type ReplayOptions } from './replay.ts'
export { asChaincode, startChaincode, ChaincodeStub, StateRangeIterator, type Chaincode, type ChaincodeResult } from './shim/index.ts'
