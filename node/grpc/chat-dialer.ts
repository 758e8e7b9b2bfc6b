import type { ChannelCredentials, Client, ClientDuplexStream } from '@grpc/grpc-js'
import { Peer, type Response, type Transaction } from '../../src/protos/fabric_pb.ts'
import type { AbortOptions, ChatDialer } from '../../src/transport/chat-server.ts'
import type { ChatStream } from '../../src/transport/chat-stream.ts'
import { DEFAULT_MAX_MESSAGE_SIZE } from '../../src/transport/frame.ts'
import { dialAddress } from '../host-port.ts'
import { GrpcChatStream, type GrpcChatOptions } from './chat-stream.ts'
import { channelOptions, clientCredentials, connect, unaryCall } from './client.ts'
import { clientConstructor } from './service-definition.ts'
import type { ClientTls } from './tls.ts'

export interface GrpcChatDialerOptions extends GrpcChatOptions {
  /** peer.tls.*: dial with TLS, checking the remote this way (clientTlsFromConfig). */
  tls?: ClientTls
  /** How long dialChat waits for the connection (ms); Fabric's dial gives up after 3 s. */
  connectTimeout?: number
  /** How long one ProcessTransaction may take end to end (ms). */
  processTxTimeout?: number
}

const PeerClient = clientConstructor(Peer, ['chat'])

/**
 * Reaches peers at host:port over gRPC, as Fabric's peer dials peer.discovery.rootnode and the
 * addresses discovery finds: Peer.Chat for chats, Peer.ProcessTransaction for transactions.
 * Each chat has its own channel, closed when the call ends.
 */
export class GrpcChatDialer implements ChatDialer {
  private readonly maxSize: number
  private readonly connectTimeout: number
  private readonly processTxTimeout: number
  private credentials?: Promise<ChannelCredentials>

  constructor (private readonly options: GrpcChatDialerOptions = {}) {
    this.maxSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE
    this.connectTimeout = options.connectTimeout ?? 3000
    this.processTxTimeout = options.processTxTimeout ?? 30_000
  }

  async dialChat (address: string, options: AbortOptions = {}): Promise<ChatStream> {
    const target = dialAddress(address, 'peer address')
    const client = await this.client(target)
    try {
      await connect(client, target, this.connectTimeout, options.signal, this.options.tls)
    } catch (err) {
      client.close()
      throw err
    }
    const call = (client as unknown as { chat: () => ClientDuplexStream<Uint8Array, Uint8Array> }).chat()
    call.on('status', () => { client.close() })
    return new GrpcChatStream(call, 'client', target, this.options)
  }

  canDial (address: string): boolean {
    try {
      dialAddress(address, 'peer address')
      return true
    } catch {
      return false
    }
  }

  async processTransaction (address: string, tx: Transaction, options: AbortOptions = {}): Promise<Response> {
    const client = await this.client(dialAddress(address, 'peer address'))
    try {
      return await unaryCall<Response>(client, 'processTransaction', tx, { timeout: this.processTxTimeout, signal: options.signal })
    } finally {
      client.close()
    }
  }

  private async client (target: string): Promise<Client> {
    this.credentials ??= clientCredentials(this.options.tls)
    return new PeerClient(target, await this.credentials, channelOptions(this.options.tls, this.maxSize))
  }
}
