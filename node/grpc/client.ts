import { connectivityState, credentials, type ChannelCredentials, type ChannelOptions, type Client, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js'
import { clientSecureContext, tlsHandshakeFailure, type ClientTls } from './tls.ts'

export async function clientCredentials (tls?: ClientTls): Promise<ChannelCredentials> {
  if (tls === undefined) return credentials.createInsecure()
  return credentials.createFromSecureContext(await clientSecureContext(tls))
}

/** Channel options: the TLS name override and, when given, a cap on messages both ways. */
export function channelOptions (tls?: ClientTls, maxMessageSize?: number): ChannelOptions {
  const options: ChannelOptions = {}
  if (tls?.serverNameOverride !== undefined) {
    options['grpc.ssl_target_name_override'] = tls.serverNameOverride
    options['grpc.default_authority'] = tls.serverNameOverride
  }
  if (maxMessageSize !== undefined) {
    options['grpc.max_receive_message_length'] = maxMessageSize
    options['grpc.max_send_message_length'] = maxMessageSize
  }
  return options
}

/** A failed call, worded as grpc-go words it (what Fabric's CLI and logs show). */
export class GrpcCallError extends Error {
  override name = 'GrpcCallError'
  constructor (readonly code: number, readonly details: string) {
    super(`rpc error: code = ${code} desc = ${details}`)
  }
}

export interface UnaryOptions {
  /** Milliseconds the whole call may take. */
  timeout?: number
  signal?: AbortSignal
}

type UnaryMethod = (req: unknown, options: { deadline?: number }, cb: (err: ServiceError | null, res?: unknown) => void) => ClientUnaryCall

/** One unary call on a client made by clientConstructor; `method` is its localName (getStatus, invoke, …). */
export async function unaryCall<Res> (client: Client, method: string, request: unknown, options: UnaryOptions = {}): Promise<Res> {
  const { timeout, signal } = options
  signal?.throwIfAborted()
  const fn = (client as unknown as Record<string, UnaryMethod | undefined>)[method]
  if (fn === undefined) throw new Error(`gRPC client has no method ${method}`)
  return await new Promise<Res>((resolve, reject) => {
    const cancel = (): void => { call.cancel() }
    const call = fn.call(client, request, timeout === undefined ? {} : { deadline: Date.now() + timeout }, (err, res) => {
      signal?.removeEventListener('abort', cancel)
      if (err !== null) reject(new GrpcCallError(err.code, err.details))
      else resolve(res as Res)
    })
    signal?.addEventListener('abort', cancel, { once: true })
  })
}

/**
 * Waits until the client's channel is connected, as Fabric's blocking dial does; a failed
 * connection attempt ends the wait at once instead of retrying until the timeout. With `tls`,
 * a failure says why the handshake failed (plaintext peer, untrusted certificate, wrong name).
 */
export async function connect (client: Client, target: string, timeout: number, signal?: AbortSignal, tls?: ClientTls): Promise<void> {
  try {
    await whenReady(client, target, timeout, signal)
  } catch (err) {
    if (tls === undefined || signal?.aborted === true) throw err
    const why = await tlsHandshakeFailure(target, tls, timeout)
    if (why === undefined) throw err
    throw new Error(`cannot connect to ${target}: ${why}`)
  }
}

async function whenReady (client: Client, target: string, timeout: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted()
  const channel = client.getChannel()
  const deadline = Date.now() + timeout
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => { reject(signal!.reason) }
    signal?.addEventListener('abort', onAbort, { once: true })
    const settle = (err?: Error): void => {
      signal?.removeEventListener('abort', onAbort)
      if (err === undefined) resolve()
      else reject(err)
    }
    const watch = (state: connectivityState): void => {
      if (state === connectivityState.READY) { settle(); return }
      if (state === connectivityState.TRANSIENT_FAILURE) { settle(new Error(`cannot connect to ${target}: the connection failed`)); return }
      if (state === connectivityState.SHUTDOWN) { settle(new Error(`cannot connect to ${target}: the client was closed`)); return }
      channel.watchConnectivityState(state, deadline, err => {
        if (err !== undefined) settle(new Error(`cannot connect to ${target}: no connection within ${timeout} ms`))
        else watch(channel.getConnectivityState(true))
      })
    }
    watch(channel.getConnectivityState(true))
  })
}
