// membersrvc's public gRPC APIs (ECAP, TCAP, TLSCAP) as the CaRpc that src/crypto/fabric's CaClient takes.
import type { DescService } from '@bufbuild/protobuf'
import type { Client } from '@grpc/grpc-js'
import { ECAP, TCAP, TLSCAP } from '../../src/protos/ca_pb.ts'
import type { CaRpc } from '../../src/crypto/fabric/ca-rpc.ts'
import { channelOptions, clientCredentials, unaryCall, type ClientTls } from '../grpc/client.ts'
import { clientConstructor } from '../grpc/service-definition.ts'

export interface CaRpcOptions {
  /** host:port of the ECA (peer.pki.eca.paddr); the TCA and TLS CA default to it, as one membersrvc serves all three. */
  readonly eca: string
  readonly tca?: string
  readonly tlsca?: string
  readonly tls?: ClientTls
  /** Milliseconds each call may take. */
  readonly timeout?: number
}

export interface NodeCaRpc extends CaRpc {
  /** Closes the channels. */
  close: () => void
}

function unaryMethods<T> (service: DescService, client: Client, timeout: number | undefined): T {
  const calls: Record<string, (req: unknown) => Promise<unknown>> = {}
  for (const m of service.methods) {
    calls[m.localName] = async (req) => await unaryCall(client, m.localName, req, { timeout })
  }
  return calls as T
}

/** gRPC clients of membersrvc's ECAP, TCAP and TLSCAP. */
export async function createCaRpc (opts: CaRpcOptions): Promise<NodeCaRpc> {
  const creds = await clientCredentials(opts.tls)
  const options = channelOptions(opts.tls)
  const clients: Client[] = []
  const open = (service: DescService, address: string): Client => {
    const Ctor = clientConstructor(service)
    const c = new Ctor(address, creds, options)
    clients.push(c)
    return c
  }
  return {
    ecap: unaryMethods(ECAP, open(ECAP, opts.eca), opts.timeout),
    tcap: unaryMethods(TCAP, open(TCAP, opts.tca ?? opts.eca), opts.timeout),
    tlscap: unaryMethods(TLSCAP, open(TLSCAP, opts.tlsca ?? opts.eca), opts.timeout),
    close: () => { for (const c of clients) c.close() }
  }
}
