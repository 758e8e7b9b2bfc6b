import { status, type Server, type UntypedHandleCall } from '@grpc/grpc-js'
import type { DescService } from '@bufbuild/protobuf'
import { CaError, type CaErrorCode } from '../../src/ca/errors.ts'
import type { MembershipServices } from '../../src/ca/membership.ts'
import { ACAP, ECAA, ECAP, TCAA, TCAP, TLSCAA, TLSCAP } from '../../src/protos/ca_pb.ts'
import { addService } from '../grpc/service-definition.ts'
import { GrpcError, unary } from '../grpc/unary.ts'

const codes: Record<CaErrorCode, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  UNIMPLEMENTED: status.UNIMPLEMENTED,
  INTERNAL: status.INTERNAL
}

type Impl = Record<string, (req: never) => Promise<unknown>>

/** Each rpc of `service` answered by the method of `impl` with its localName; a CaError keeps its status. */
function handlers (service: DescService, impl: Impl): Record<string, UntypedHandleCall> {
  const out: Record<string, UntypedHandleCall> = {}
  for (const m of service.methods) {
    const fn = impl[m.localName]
    out[m.localName] = unary(`/${service.typeName}/${m.name}`, async (req: never) => {
      try {
        return await fn(req)
      } catch (err) {
        if (err instanceof CaError) throw new GrpcError(codes[err.code], err.message)
        throw err
      }
    })
  }
  return out
}

/** Registers ECAP, ECAA, TCAP, TCAA, TLSCAP, TLSCAA and, with aca.enabled, ACAP (protos.* as Fabric's membersrvc serves them) on a gRPC server. */
export function addMembershipServices (server: Server, ca: MembershipServices): void {
  addService(server, ECAP, handlers(ECAP, ca.eca.ecap))
  addService(server, ECAA, handlers(ECAA, ca.eca.ecaa))
  addService(server, TCAP, handlers(TCAP, ca.tca.tcap))
  addService(server, TCAA, handlers(TCAA, ca.tca.tcaa))
  addService(server, TLSCAP, handlers(TLSCAP, ca.tlsca.tlscap))
  addService(server, TLSCAA, handlers(TLSCAA, ca.tlsca.tlscaa))
  if (ca.config.aca.enabled) addService(server, ACAP, handlers(ACAP, ca.aca.acap))
}
