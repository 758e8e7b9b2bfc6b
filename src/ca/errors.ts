/**
 * A refusal by membership services. `code` is the gRPC status name node/ca answers with;
 * the message keeps Fabric's wording where Fabric had one (Fabric's clients print it as is).
 */
export type CaErrorCode =
  | 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'ALREADY_EXISTS' | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED' | 'FAILED_PRECONDITION' | 'UNIMPLEMENTED' | 'INTERNAL'

export class CaError extends Error {
  override name = 'CaError'
  constructor (readonly code: CaErrorCode, message: string) {
    super(message)
  }
}
