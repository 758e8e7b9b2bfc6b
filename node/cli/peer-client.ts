// What the client verbs (node status/stop, chaincode, network) share: reaching the local peer
// at peer.address over gRPC as Fabric's CLI does, and reporting failure as one line.
import type { DescService } from '@bufbuild/protobuf'
import type { ChannelCredentials, Client } from '@grpc/grpc-js'
import type { Command } from 'commander'
import { configFileFor, loadNodeConfig } from '../config.ts'
import { channelOptions, clientCredentials, connect, unaryCall } from '../grpc/client.ts'
import { clientConstructor } from '../grpc/service-definition.ts'
import { clientTlsFromConfig, type ClientTls } from '../grpc/tls.ts'
import { dialAddress } from '../host-port.ts'
import { LoginTokens } from '../peer/login-tokens.ts'
import { TxEventWatch } from './tx-events.ts'

/** Fabric's CLI gives the peer 3 s to accept the connection. */
export const CONNECT_TIMEOUT = 3000

/** The peer could not be reached at all (as opposed to a call it answered with an error). */
export class PeerUnreachableError extends Error {
  override name = 'PeerUnreachableError'
}

/** The peer at peer.address (CORE_PEER_ADDRESS; an unspecified host means this machine), with peer.tls.*. */
export class LocalPeer {
  private readonly clients = new Map<DescService, Promise<Client>>()

  private constructor (
    readonly address: string,
    readonly eventsAddress: string,
    /** rest.address, for what only the REST service tells (a transaction's block, or why it was rejected). */
    readonly restAddress: string,
    readonly tls: ClientTls | undefined,
    readonly creds: ChannelCredentials,
    /** security.enabled: chaincode verbs need a user (-u) with a login token here. */
    readonly securityEnabled: boolean,
    /** security.privacy: a user's chaincode requests are sent CONFIDENTIAL, as Fabric's CLI marks them. */
    readonly privacy: boolean,
    /** Where login tokens are kept (peer.fileSystemPath/client), as Fabric's CLI keeps them. */
    readonly tokens: LoginTokens
  ) {}

  /** From core.yaml (`file`, else ./core.yaml when present) and CORE_* variables, as `weft node start` reads them. */
  static async fromConfig (file?: string): Promise<LocalPeer> {
    const config = await loadNodeConfig({ file: await configFileFor(file) })
    const tls = clientTlsFromConfig(config)
    return new LocalPeer(
      dialAddress(config.peer.address, 'peer.address'),
      dialAddress(config.peer.validator.events.address, 'peer.validator.events.address'),
      dialAddress(config.rest.address, 'rest.address'),
      tls,
      await clientCredentials(tls),
      config.security.enabled,
      config.security.privacy,
      new LoginTokens(config.peer.fileSystemPath))
  }

  /** Listens for BLOCK and REJECTION events at peer.validator.events.address (for --wait). */
  async watchTransactions (timeoutMs: number): Promise<TxEventWatch> {
    return await TxEventWatch.open(this.eventsAddress, this.creds, this.tls, Math.min(timeoutMs, CONNECT_TIMEOUT * 2))
  }

  /** One unary call; `method` is the localName (getStatus, deploy, …). Connects first, once per service. */
  async call<Res> (service: DescService, method: string, request: unknown): Promise<Res> {
    return await unaryCall<Res>(await this.client(service), method, request)
  }

  close (): void {
    for (const c of this.clients.values()) void c.then(client => { client.close() }, () => {})
  }

  private async client (service: DescService): Promise<Client> {
    let c = this.clients.get(service)
    if (c === undefined) {
      const Ctor = clientConstructor(service)
      const client = new Ctor(this.address, this.creds, channelOptions(this.tls))
      c = connect(client, this.address, CONNECT_TIMEOUT, undefined, this.tls).then(() => client, (err: Error) => {
        client.close()
        throw new PeerUnreachableError(`Error trying to connect to local peer: ${err.message}`)
      })
      this.clients.set(service, c)
    }
    return await c
  }
}

/** Rethrows a refused call with Fabric's wording for the verb (`Error querying chaincode: rpc error: …`). */
export function failedTo (what: string): (err: Error) => never {
  return err => {
    if (err instanceof PeerUnreachableError) throw err
    throw new Error(`${what}: ${err.message}`)
  }
}

export interface ClientFlags {
  config?: string
}

export function withConfigOption (cmd: Command): Command {
  return cmd.option('--config <file>', 'core.yaml to read (default ./core.yaml if present; CORE_* variables override it)')
}

/**
 * Runs a client verb and sets the exit status: any failure (bad flags, unreachable peer, refused
 * call) is one `Error: …` line on stderr and status 1, as Fabric's cobra commands report errors.
 */
export async function runClientVerb (flags: ClientFlags, verb: (peer: LocalPeer) => Promise<void>): Promise<void> {
  let peer: LocalPeer | undefined
  try {
    peer = await LocalPeer.fromConfig(flags.config)
    await verb(peer)
  } catch (err) {
    process.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  } finally {
    peer?.close()
  }
}
