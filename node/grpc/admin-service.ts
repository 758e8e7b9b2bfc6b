import { create } from '@bufbuild/protobuf'
import type { Server } from '@grpc/grpc-js'
import type { PeerApi } from '../../src/peer-api.ts'
import { Admin, ServerStatusSchema, ServerStatus_StatusCode } from '../../src/protos/server_admin_pb.ts'
import { addService } from './service-definition.ts'
import { unary } from './unary.ts'

/**
 * protos.Admin: GetStatus reports the peer's status, StartServer answers STARTED (the peer is
 * already serving), StopServer begins a clean stop and answers STOPPED. (Fabric's own peer
 * exits before its answer leaves; Weft closes its servers after answering.)
 */
export function addAdminService (server: Server, peer: PeerApi): void {
  addService(server, Admin, {
    getStatus: unary('/protos.Admin/GetStatus', async () => create(ServerStatusSchema, { status: peer.status() })),
    startServer: unary('/protos.Admin/StartServer', async () => create(ServerStatusSchema, { status: ServerStatus_StatusCode.STARTED })),
    stopServer: unary('/protos.Admin/StopServer', async () => {
      await peer.stop()
      return create(ServerStatusSchema, { status: ServerStatus_StatusCode.STOPPED })
    })
  })
}
