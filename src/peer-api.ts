import type { ChaincodeDeploymentSpec, ChaincodeInvocationSpec, ChaincodeSpec } from './protos/chaincode_pb.ts'
import type { Block, BlockchainInfo, PeerEndpoint, PeersMessage, Response, Transaction } from './protos/fabric_pb.ts'
import type { ServerStatus_StatusCode } from './protos/server_admin_pb.ts'
import type { Users } from './security/users.ts'

/**
 * What the client-facing surfaces (REST, gRPC Openchain/Devops/Admin/Peer.ProcessTransaction,
 * the metrics endpoint) need from a running peer. The composition root implements it; the
 * surfaces add Fabric's wire rules (error texts, status codes, JSON) on top.
 *
 * Failures are thrown as Errors whose message is what Fabric would report (Devops turns a
 * FAILURE Response into an error with the response's message: do the same).
 */
export interface PeerApi {
  /** The ledger's BlockchainInfo; height 0 when there is no genesis block yet. */
  getBlockchainInfo (): Promise<BlockchainInfo>
  /** The stored block (code packages included: the surfaces strip them), undefined past the end. */
  getBlockByNumber (n: bigint): Promise<Block | undefined>
  /** A committed transaction, undefined when no block holds it. */
  getTransactionByID (txid: string): Promise<Transaction | undefined>
  /** Where a transaction ended: in a block, rejected by this peer (remembered for the recent ones only), or unknown here. */
  transactionStatus (txid: string): Promise<TransactionStatus>
  /** The peers this peer knows (Fabric's peer.GetPeers); may or may not include this peer itself. */
  getPeers (): Promise<PeersMessage>
  /** This peer's own endpoint (ID, address, VALIDATOR or NON_VALIDATOR, pkiID when security is on). */
  getPeerEndpoint (): Promise<PeerEndpoint>

  /** Devops.Build: the deployment spec (with the code package in network mode). */
  build (spec: ChaincodeSpec): Promise<ChaincodeDeploymentSpec>
  /** Devops.Deploy: submits the deploy transaction; resolves with its deployment spec (chaincodeID.name is the name to use). */
  deploy (spec: ChaincodeSpec, opts?: SubmitOptions): Promise<ChaincodeDeploymentSpec>
  /** Devops.Invoke: submits the transaction; resolves with Response{SUCCESS, msg: txid}. Acceptance, not commitment, unless opts.waitMs. */
  invoke (spec: ChaincodeInvocationSpec, opts?: SubmitOptions): Promise<Response>
  /** Devops.Query: runs the query locally; resolves with Response{SUCCESS, msg: result}. */
  query (spec: ChaincodeInvocationSpec): Promise<Response>
  /** Peer.ProcessTransaction: ExecuteTransaction for a transaction another peer (or client) built. Never throws for a refused tx: answers Response{FAILURE, msg}. */
  processTransaction (tx: Transaction): Promise<Response>

  /** The users this peer enrolls and signs for (security.enabled with membership services); undefined when none can log in. */
  readonly users?: Users

  /** Admin.GetStatus. */
  status (): ServerStatus_StatusCode
  /** Admin.StopServer: stops the peer cleanly (servers closed, ledger closed); resolves once stopping has begun. */
  stop (): Promise<void>
}

/** `at` is when this peer rejected it, in its scheduler's milliseconds since the epoch. */
export type TransactionStatus =
  | { status: 'committed', block: number }
  | { status: 'rejected', error: string, at: number }
  | { status: 'unknown' }

/**
 * How a submission is acknowledged. Fabric's OK means "accepted into the queue"; with `waitMs`
 * the answer comes only once the transaction is in a block, and a rejection (or no block within
 * waitMs) is an error (a TransactionFailedError from src/events/tx-waiter.ts).
 */
export interface SubmitOptions { waitMs?: number }

/**
 * Devops.Login's answer (Response{FAILURE}) and POST /registrar's 401 body on a peer that has
 * no membership services (security off, or not enrolled with a CA): enrollment can never succeed,
 * as on a Fabric peer whose membership service is unreachable.
 */
export function membershipUnavailable (securityEnabled: boolean): string {
  return securityEnabled
    ? 'Membership services are not available: this peer is not enrolled with membership services, so users cannot log in'
    : 'Membership services are not available: security is disabled (security.enabled is false)'
}
