import type { ChaincodeSpec } from '../protos/chaincode_pb.ts'
import type { ChaincodeStream } from './stream.ts'

/** What a runtime needs to start one chaincode (Fabric's container StartImageReq). */
export interface LaunchRequest {
  /** The name the chaincode registers under (CORE_CHAINCODE_ID_NAME). */
  name: string
  spec: ChaincodeSpec
  /** ChaincodeDeploymentSpec.codePackage from the deploy transaction. */
  codePackage: Uint8Array
}

/** A started chaincode: the peer's side of its Register stream, and how to stop it. */
export interface LaunchedChaincode {
  /** The chaincode sends REGISTER first on it, as a Fabric chaincode dialling the peer would. */
  readonly stream: ChaincodeStream
  /** The chaincode runs Weft's shim with its state cache on (ShimOptions.stateCache): the peer may send it Weft's cache fields. */
  readonly cachesState?: boolean
  /** Stops the chaincode at once (even one stuck in a loop). Idempotent. */
  kill (reason?: Error): Promise<void>
}

/**
 * Where chaincode runs (Fabric's VM controller): a worker thread, a Web Worker, or the
 * peer's own thread. ChaincodeSupport launches through it and kills what misbehaves.
 */
export interface ChaincodeRuntime {
  /** For logs and errors, e.g. 'worker_threads'. */
  readonly name: string
  /** Whether this runtime can run chaincode of the spec's type. */
  supports (spec: ChaincodeSpec): boolean
  /** Checks a code package at deploy time; throws with the reason it cannot run. */
  validate (req: LaunchRequest): void
  launch (req: LaunchRequest): Promise<LaunchedChaincode>
  /** Kills everything it launched. */
  stop (): Promise<void>
}
