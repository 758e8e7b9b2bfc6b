// A user-started chaincode (Fabric's dev mode): the process dials the peer's ChaincodeSupport
// service and registers under its name, as `CORE_CHAINCODE_ID_NAME=mycc ./chaincode_example02`
// does with Fabric's Go shim. The chaincode runs in this process, unconfined: the user started it.
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { ChannelCredentials, ClientDuplexStream } from '@grpc/grpc-js'
import { asChaincode, type Chaincode } from '../../src/chaincode/shim/chaincode.ts'
import { startChaincode } from '../../src/chaincode/shim/handler.ts'
import { ChaincodeSupport, type ChaincodeMessage } from '../../src/protos/chaincode_pb.ts'
import { errorMessage } from '../../src/util/errors.ts'
import { channelOptions, connect } from '../grpc/client.ts'
import { callStream, clientConstructor } from '../grpc/service-definition.ts'
import type { ClientTls } from '../grpc/tls.ts'

/** Fabric's Go shim gives the peer this long to accept the connection. */
const CONNECT_TIMEOUT = 3000

/** Imports a chaincode module (JS, or TypeScript through tsx) and checks its exports. */
export async function loadChaincodeFile (path: string): Promise<Chaincode> {
  let mod: unknown
  try {
    if (/\.[mc]?tsx?$/.test(path)) (await import('tsx/esm/api')).register()
    mod = await import(pathToFileURL(resolve(path)).href)
  } catch (err) {
    throw new Error(`cannot load chaincode ${path}: ${errorMessage(err)}`)
  }
  return asChaincode(mod)
}

export interface ExternalChaincodeInit {
  /** host:port of the peer's gRPC listener (peer.address). */
  address: string
  name: string
  chaincode: Chaincode
  creds: ChannelCredentials
  tls?: ClientTls
  /** Called once the peer answered REGISTERED. */
  onRegistered?: () => void
}

/**
 * Registers and serves the chaincode until the peer ends the stream. Rejects when the peer
 * cannot be reached, refuses the registration, or the stream breaks.
 */
export async function runExternalChaincode (init: ExternalChaincodeInit): Promise<void> {
  const Client = clientConstructor(ChaincodeSupport)
  const client = new Client(init.address, init.creds, channelOptions(init.tls))
  try {
    await connect(client, init.address, CONNECT_TIMEOUT, undefined, init.tls).catch((err: Error) => {
      throw new Error(`Error trying to connect to local peer: ${err.message}`)
    })
    const call = (client as unknown as { register: () => ClientDuplexStream<ChaincodeMessage, ChaincodeMessage> }).register()
    const stream = callStream<ChaincodeMessage, ChaincodeMessage>(call, 'client', init.address)
    await startChaincode(stream, init.name, init.chaincode, { onRegistered: init.onRegistered })
  } finally {
    client.close()
  }
}
