import type { MessageShape } from '@bufbuild/protobuf'
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2'
import type { ECAP, TCAP, TLSCAP } from '../../protos/ca_pb.ts'

/** A service's unary methods as promise-returning calls, named by localName (readCACertificate, …). */
export type UnaryClient<S> = S extends GenService<infer M extends GenServiceMethods>
  ? { [K in keyof M]: (req: MessageShape<M[K]['input']>) => Promise<MessageShape<M[K]['output']>> }
  : never

/**
 * The membership services a node talks to, as the platform provides them (gRPC in Node, something
 * else in a tab): the public ECA, TCA and TLS CA APIs of membersrvc.
 */
export interface CaRpc {
  readonly ecap: UnaryClient<typeof ECAP>
  readonly tcap: UnaryClient<typeof TCAP>
  readonly tlscap: UnaryClient<typeof TLSCAP>
}
