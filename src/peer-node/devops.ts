import { clone, create } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import { nodeDeploymentSpec } from '../chaincode/package.ts'
import { newDeployTransaction, newExecuteTransaction } from '../chaincode/transactions.ts'
import type { CoreConfig } from '../config/schema.ts'
import { fromUtf8 } from '../crypto/bytes.ts'
import { cryptoSuite } from '../crypto/fabric/suite.ts'
import type { TxWaiter } from '../events/tx-waiter.ts'
import type { SubmitOptions } from '../peer-api.ts'
import type { PeerPlatform } from '../peer-platform.ts'
import type { Peer } from '../peer/peer.ts'
import { ChaincodeDeploymentSpecSchema, ChaincodeInvocationSpecSchema, ChaincodeSpecSchema, ChaincodeSpec_Type, ConfidentialityLevel, type ChaincodeDeploymentSpec, type ChaincodeInvocationSpec, type ChaincodeSpec } from '../protos/chaincode_pb.ts'
import { ResponseSchema, Response_StatusCode, Transaction_Type, type Response, type Transaction } from '../protos/fabric_pb.ts'
import { decryptQueryResult, encryptTransaction } from '../security/confidentiality.ts'
import { randomNonce, signTransaction } from '../security/transactions.ts'
import type { Users } from '../security/users.ts'
import { errorMessage } from '../util/errors.ts'

/**
 * Fabric's Devops service: builds chaincode deployment specs and the deploy, invoke and query
 * transactions of a client, signed for its user when membership services are on, and hands
 * them to the peer.
 */
export class Devops {
  constructor (
    private readonly config: CoreConfig,
    private readonly platform: PeerPlatform,
    /** The users it signs for (membership services); undefined when none can log in. */
    private readonly users: Users | undefined,
    private readonly peer: Peer,
    private readonly waiter: TxWaiter
  ) {}

  /** Devops.Build: in dev mode the spec as given; a NODE spec outside dev mode gets its package and derived name. */
  async build (spec: ChaincodeSpec): Promise<ChaincodeDeploymentSpec> {
    if (this.config.chaincode.mode === 'dev' || spec.type !== ChaincodeSpec_Type.NODE) {
      if (this.config.chaincode.mode !== 'dev' && this.platform.chaincodeRuntime?.supports(spec) !== true) {
        throw new Error(`chaincode type ${ChaincodeSpec_Type[spec.type] ?? spec.type} cannot run on this peer outside dev mode (use NODE chaincode, or start the peer with --peer-chaincodedev)`)
      }
      return create(ChaincodeDeploymentSpecSchema, { chaincodeSpec: spec })
    }
    if (this.platform.packageChaincode === undefined) throw new Error('this peer cannot package chaincode from a path')
    const codePackage = await this.platform.packageChaincode(spec)
    return nodeDeploymentSpec(codePackage, spec.ctorMsg?.args ?? [])
  }

  async deploy (spec: ChaincodeSpec, opts: SubmitOptions = {}): Promise<ChaincodeDeploymentSpec> {
    const user = this.users === undefined ? undefined : spec.secureContext
    const cds = await this.build(user === undefined ? spec : create(ChaincodeSpecSchema, { ...spec, secureContext: '' }))
    const name = cds.chaincodeSpec?.chaincodeID?.name ?? ''
    if (name === '') throw new Error('name not given for deploy')
    // As Fabric, the deploy transaction's id is the chaincode name.
    await this.submit(await this.signedBy(user, spec, newDeployTransaction(cds, name, this.now())), opts)
    return cds
  }

  async invoke (cis: ChaincodeInvocationSpec, opts: SubmitOptions = {}): Promise<Response> {
    if ((cis.chaincodeSpec?.chaincodeID?.name ?? '') === '') throw new Error('name not given for invoke/query')
    const [user, spec] = this.withoutSecureContext(cis)
    return await this.submit(await this.signedBy(user, spec.chaincodeSpec!, newExecuteTransaction(spec, this.newTxid(), Transaction_Type.CHAINCODE_INVOKE, this.now())), opts)
  }

  async query (cis: ChaincodeInvocationSpec): Promise<Response> {
    if ((cis.chaincodeSpec?.chaincodeID?.name ?? '') === '') throw new Error('name not given for invoke/query')
    const [user, spec] = this.withoutSecureContext(cis)
    const tx = await this.signedBy(user, spec.chaincodeSpec!, newExecuteTransaction(spec, this.newTxid(), Transaction_Type.CHAINCODE_QUERY, this.now()))
    const resp = await this.peer.executeTransaction(tx)
    if (resp.status === Response_StatusCode.FAILURE) throw new Error(fromUtf8(resp.msg))
    return await this.queryResult(user, tx, resp)
  }

  /** With users, the secureContext names the user who signs; Fabric clears it before the transaction is built. */
  private withoutSecureContext (cis: ChaincodeInvocationSpec): [string | undefined, ChaincodeInvocationSpec] {
    if (this.users === undefined) return [undefined, cis]
    const spec = clone(ChaincodeInvocationSpecSchema, cis)
    const user = spec.chaincodeSpec!.secureContext
    spec.chaincodeSpec!.secureContext = ''
    return [user, spec]
  }

  /**
   * Devops' secure path: the spec's metadata, a nonce, encryption for a CONFIDENTIAL spec
   * (confidentiality protocol 1.2, to the chain key `user` got at enrollment), then `user`'s
   * next TCert and its signature (crypto.InitClient fails for a user not logged in).
   */
  private async signedBy (user: string | undefined, spec: ChaincodeSpec, tx: Transaction): Promise<Transaction> {
    if (user === undefined || this.users === undefined) return tx
    const member = await this.users.member(user)
    tx.metadata = spec.metadata
    tx.nonce = randomNonce(this.platform.random)
    if (spec.confidentialityLevel === ConfidentialityLevel.CONFIDENTIAL) {
      const chain = member.chain
      if (chain?.queryStateKey === undefined) throw new Error(`${user} holds no chain key from membership services: it cannot send confidential transactions`)
      tx = encryptTransaction(this.suite(), tx, { chainPublicKey: chain.publicKey, queryStateKey: chain.queryStateKey })
    }
    return signTransaction(tx, await member.nextTCert())
  }

  /**
   * A confidential query's result comes back encrypted to a key only its user derives (Fabric's
   * Devops decrypts it with DecryptQueryResult before answering).
   */
  private async queryResult (user: string | undefined, tx: Transaction, resp: Response): Promise<Response> {
    if (user === undefined || this.users === undefined || tx.confidentialityLevel !== ConfidentialityLevel.CONFIDENTIAL) return resp
    const queryStateKey = (await this.users.member(user)).chain?.queryStateKey
    if (queryStateKey === undefined) throw new Error(`${user} holds no query state key to decrypt the query result`)
    try {
      return create(ResponseSchema, { ...resp, msg: decryptQueryResult(this.suite(), queryStateKey, tx, resp.msg) })
    } catch (err) {
      throw new Error(`Failed decrypting query transaction result: ${errorMessage(err)}`)
    }
  }

  private suite () { return cryptoSuite(this.config.security.hashAlgorithm, this.config.security.level) }

  /** Hands a transaction to the peer; with `waitMs`, answers only once it is in a block (or rejected). */
  private async submit (tx: Transaction, opts: SubmitOptions): Promise<Response> {
    const committed = opts.waitMs === undefined ? undefined : this.waiter.waitFor(tx.txid, opts.waitMs)
    // Without a wait a rejection later is nobody's error here.
    committed?.catch(() => {})
    const resp = await this.peer.executeTransaction(tx)
    if (resp.status === Response_StatusCode.FAILURE) throw new Error(fromUtf8(resp.msg))
    if (committed !== undefined) await committed
    return resp
  }

  private now () { return timestampFromMs(this.platform.scheduler.now()) }

  /** A version-4 UUID (Fabric's txid) from the platform's randomness, so simulations stay reproducible. */
  private newTxid (): string {
    let id = ''
    for (let i = 0; i < 16; i++) {
      let b = Math.floor(this.platform.random() * 256)
      if (i === 6) b = (b & 0x0f) | 0x40
      else if (i === 8) b = (b & 0x3f) | 0x80
      if (i === 4 || i === 6 || i === 8 || i === 10) id += '-'
      id += hexDigits[b >> 4] + hexDigits[b & 15]
    }
    return id
  }
}

const hexDigits = '0123456789abcdef'
