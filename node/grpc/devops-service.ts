import { create } from '@bufbuild/protobuf'
import { status, type Server, type UntypedHandleCall } from '@grpc/grpc-js'
import { utf8 } from '../../src/crypto/bytes.ts'
import { membershipUnavailable, type PeerApi } from '../../src/peer-api.ts'
import type { ChaincodeInvocationSpec, ChaincodeSpec } from '../../src/protos/chaincode_pb.ts'
import { Devops, type Secret } from '../../src/protos/devops_pb.ts'
import { ResponseSchema, Response_StatusCode, type Response } from '../../src/protos/fabric_pb.ts'
import { errorMessage } from '../../src/util/errors.ts'
import { addService } from './service-definition.ts'
import { GrpcError, unary } from './unary.ts'

function needChaincodeID (spec: ChaincodeSpec | undefined, what: string): ChaincodeSpec {
  if (spec === undefined) throw new GrpcError(status.INVALID_ARGUMENT, `${what} has no chaincodeSpec`)
  if (spec.chaincodeID === undefined) throw new GrpcError(status.INVALID_ARGUMENT, `${what} has no chaincodeID`)
  return spec
}

const invocation = (req: ChaincodeInvocationSpec): ChaincodeInvocationSpec => {
  needChaincodeID(req.chaincodeSpec, 'ChaincodeInvocationSpec')
  return req
}

/**
 * protos.Devops: Login enrolls the user with membership services (crypto.RegisterClient), a
 * refusal being a Response{FAILURE} with the reason (on a peer without membership services:
 * that they are not available); Build, Deploy, Invoke and Query go to the peer, a failure being
 * an UNKNOWN status with the peer's message, as grpc-go sends Fabric's errors. Requests Fabric
 * would crash on (no chaincodeSpec / chaincodeID) get INVALID_ARGUMENT. The EXP_ methods need
 * membership services too: UNIMPLEMENTED.
 */
export function addDevopsService (server: Server, peer: PeerApi, options: { securityEnabled: boolean }): void {
  const experimental = (name: string): UntypedHandleCall => unary(`/protos.Devops/${name}`, async () => {
    throw new GrpcError(status.UNIMPLEMENTED, `Devops.${name} is not implemented: it needs membership services, which this peer does not have`)
  })
  addService(server, Devops, {
    login: unary('/protos.Devops/Login', async (req: Secret) => {
      const failure = (msg: string): Response => create(ResponseSchema, { status: Response_StatusCode.FAILURE, msg: utf8(msg) })
      if (peer.users === undefined) return failure(membershipUnavailable(options.securityEnabled))
      try {
        await peer.users.login(req.enrollId, req.enrollSecret)
      } catch (err) {
        return failure(errorMessage(err))
      }
      return create(ResponseSchema, { status: Response_StatusCode.SUCCESS })
    }),
    build: unary('/protos.Devops/Build', async (req: ChaincodeSpec) => peer.build(needChaincodeID(req, 'ChaincodeSpec'))),
    deploy: unary('/protos.Devops/Deploy', async (req: ChaincodeSpec) => peer.deploy(needChaincodeID(req, 'ChaincodeSpec'))),
    invoke: unary('/protos.Devops/Invoke', async (req: ChaincodeInvocationSpec) => peer.invoke(invocation(req))),
    query: unary('/protos.Devops/Query', async (req: ChaincodeInvocationSpec) => peer.query(invocation(req))),
    eXP_GetApplicationTCert: experimental('EXP_GetApplicationTCert'),
    eXP_PrepareForTx: experimental('EXP_PrepareForTx'),
    eXP_ProduceSigma: experimental('EXP_ProduceSigma'),
    eXP_ExecuteWithBinding: experimental('EXP_ExecuteWithBinding')
  })
}
