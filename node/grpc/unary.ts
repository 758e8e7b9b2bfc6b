import { status, type sendUnaryData, type ServerUnaryCall, type UntypedHandleCall } from '@grpc/grpc-js'
import { createLogger } from '../../src/util/logger.ts'
import { errorMessage } from '../../src/util/errors.ts'

/** A failure with a chosen gRPC status (others become UNKNOWN, as grpc-go answers a plain error). */
export class GrpcError extends Error {
  constructor (readonly code: status, message: string) { super(message) }
}

const log = createLogger('grpc')

/**
 * A unary handler from an async function: its result is the response; a thrown error is the
 * status the client sees (UNKNOWN with the error's text unless it is a GrpcError).
 */
export function unary<Req, Res> (path: string, fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>): UntypedHandleCall {
  return ((call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    fn(call.request, call).then(
      res => { callback(null, res) },
      (err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err))
        const code = e instanceof GrpcError ? e.code : status.UNKNOWN
        if (code === status.UNKNOWN) log.debug(`${path} from ${call.getPeer()}: ${errorMessage(e)}`)
        callback({ code, details: e.message })
      }
    )
  }) as UntypedHandleCall
}
