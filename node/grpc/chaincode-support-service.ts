import type { Server, ServerDuplexStream } from '@grpc/grpc-js'
import { ChaincodeSupport as ChaincodeSupportService, type ChaincodeMessage } from '../../src/protos/chaincode_pb.ts'
import { marshalChaincodeMessage } from '../../src/chaincode/message-bytes.ts'
import type { ChaincodeStream } from '../../src/chaincode/stream.ts'
import { createLogger } from '../../src/util/logger.ts'
import { addService, callStream } from './service-definition.ts'
import { errorMessage } from '../../src/util/errors.ts'

const log = createLogger('chaincode')

/**
 * Serves protos.ChaincodeSupport/Register on a grpc-js server: each call is one chaincode
 * (a dev-mode chaincode started by the user, or Fabric's Go shim) that `register` serves until
 * it ends (PeerNode.serveChaincode, ChaincodeSupport.handleStream). The peer's messages are
 * marshaled by src/chaincode/message-bytes.ts (protobuf's bytes, faster).
 */
export function addChaincodeSupportService (server: Server, register: (stream: ChaincodeStream) => Promise<void>): void {
  addService(server, ChaincodeSupportService, {
    register: (call: ServerDuplexStream<ChaincodeMessage, ChaincodeMessage>) => {
      const stream = callStream<ChaincodeMessage, ChaincodeMessage>(call, 'server', call.getPeer())
      register(stream).catch((err: Error) => { log.error(`Register stream from ${stream.remote} failed: ${errorMessage(err)}`) })
    }
  }, [], { register: marshalChaincodeMessage })
}
