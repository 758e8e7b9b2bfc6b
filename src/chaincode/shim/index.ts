// What chaincode authors import (types only: a chaincode package must be self-contained):
//   import type { ChaincodeStub } from '<weft>/src/chaincode/shim/index.ts'
//   export async function init (stub: ChaincodeStub, fn: string, args: string[]) { ... }
export { asChaincode, type Chaincode, type ChaincodeResult } from './chaincode.ts'
export { ChaincodeStub, StateRangeIterator } from './stub.ts'
export { startChaincode } from './handler.ts'
