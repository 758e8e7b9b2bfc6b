// protobuf-es services on @grpc/grpc-js: service definitions, servers that turn undecodable
// requests into INVALID_ARGUMENT, clients, and bidi calls as recv/send/close message streams.
// A method named in `raw` carries its messages as bytes: its handler does its own decoding
// (Peer.Chat, to check sizes and report undecodable frames as the other Chat transports do).
// A method with an encoder in `encoders` has its responses encoded by it (Events.Chat: an
// event's bytes are made once, however many listeners it goes to).
import { fromBinary, toBinary, type DescMethod, type DescService } from '@bufbuild/protobuf'
import {
  makeClientConstructor, status,
  type Server, type ServiceClientConstructor, type ServiceDefinition, type MethodDefinition,
  type ServerDuplexStream, type ClientDuplexStream, type UntypedHandleCall
} from '@grpc/grpc-js'
import { Inbox, defaultQueueLimit } from '../../src/chaincode/stream.ts'

/** Stands in for a request that did not decode, so the handler wrapper can refuse it cleanly. */
export class MalformedRequest {
  constructor (readonly path: string, readonly error: Error) {}
  get details (): string { return `malformed request to ${this.path}: ${this.error.message}` }
}

const pathOf = (service: DescService, m: DescMethod): string => `/${service.typeName}/${m.name}`
/** A plain Uint8Array view, so decoded bytes fields are Uint8Arrays rather than Buffers. */
const view = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)

/** Names (localName) of the methods whose messages pass through as bytes. */
export type RawMethods = readonly string[]

/** Per method (localName): the encoder of its responses, in place of toBinary. */
export type ResponseEncoders = Readonly<Record<string, (msg: never) => Uint8Array>>

const asBuffer = (msg: unknown): Buffer => {
  const b = msg as Uint8Array
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength)
}

function methodDefinition (service: DescService, m: DescMethod, raw: RawMethods, encoders: ResponseEncoders): MethodDefinition<unknown, unknown> {
  const path = pathOf(service, m)
  const shape = {
    path,
    originalName: m.name,
    requestStream: m.methodKind === 'client_streaming' || m.methodKind === 'bidi_streaming',
    responseStream: m.methodKind === 'server_streaming' || m.methodKind === 'bidi_streaming'
  }
  if (raw.includes(m.localName)) {
    return { ...shape, requestSerialize: asBuffer, requestDeserialize: view, responseSerialize: asBuffer, responseDeserialize: view }
  }
  const encode = encoders[m.localName] as ((msg: unknown) => Uint8Array) | undefined
  // grpc-js copies what these return into its frame: a view of the bytes, not a copy, is enough.
  return {
    ...shape,
    requestSerialize: (msg) => asBuffer(toBinary(m.input, msg as never)),
    // Server side: grpc-js would answer a throw here with INTERNAL; the wrapper answers INVALID_ARGUMENT.
    requestDeserialize: (bytes) => {
      try {
        return fromBinary(m.input, view(bytes))
      } catch (err) {
        return new MalformedRequest(path, err as Error)
      }
    },
    responseSerialize: encode !== undefined ? msg => asBuffer(encode(msg)) : msg => asBuffer(toBinary(m.output, msg as never)),
    // Client side: a throw becomes a failed call, which is what a bad response should be.
    responseDeserialize: (bytes) => fromBinary(m.output, view(bytes))
  }
}

/** The grpc-js definition of a protobuf-es service: paths /<package>.<Service>/<Method>, keyed by localName. */
export function serviceDefinition (service: DescService, raw: RawMethods = [], encoders: ResponseEncoders = {}): ServiceDefinition {
  const def: Record<string, MethodDefinition<unknown, unknown>> = {}
  for (const m of service.methods) def[m.localName] = methodDefinition(service, m, raw, encoders)
  return def
}

/** A grpc-js client class for the service; its methods are the localNames (register, getBlockCount, …). */
export function clientConstructor (service: DescService, raw: RawMethods = []): ServiceClientConstructor {
  return makeClientConstructor(serviceDefinition(service, raw), service.typeName)
}

type AnyCall = {
  request?: unknown
  push?: (chunk: unknown) => boolean
  emit: (event: string, ...args: unknown[]) => boolean
}

/**
 * Adds a service to a grpc-js server. Handlers are keyed by localName; none ever sees a
 * malformed request: unary and server-streaming calls get INVALID_ARGUMENT, and a stream that
 * receives an undecodable message ends with INVALID_ARGUMENT.
 */
export function addService (server: Server, service: DescService, impl: Record<string, UntypedHandleCall>, raw: RawMethods = [], encoders: ResponseEncoders = {}): void {
  const wrapped: Record<string, UntypedHandleCall> = {}
  for (const m of service.methods) {
    const handler = impl[m.localName]
    // Left out: grpc-js answers UNIMPLEMENTED, as grpc-go does for a method without a handler.
    if (handler === undefined) continue
    const invalid = { code: status.INVALID_ARGUMENT }
    if (m.methodKind === 'unary') {
      wrapped[m.localName] = ((call: AnyCall, callback: (e: unknown) => void) => {
        if (call.request instanceof MalformedRequest) { callback({ ...invalid, details: call.request.details }); return }
        ;(handler as (c: unknown, cb: unknown) => void)(call, callback)
      }) as UntypedHandleCall
    } else if (m.methodKind === 'server_streaming') {
      wrapped[m.localName] = ((call: AnyCall) => {
        if (call.request instanceof MalformedRequest) { call.emit('error', { ...invalid, details: call.request.details }); return }
        ;(handler as (c: unknown) => void)(call)
      }) as UntypedHandleCall
    } else {
      wrapped[m.localName] = ((call: AnyCall) => {
        // grpc-js pushes every decoded request into the call; intercept the ones that did not decode.
        const push = call.push!.bind(call)
        let refused = false
        call.push = (chunk: unknown) => {
          if (refused) return false
          if (chunk instanceof MalformedRequest) {
            refused = true
            call.emit('error', { ...invalid, details: chunk.details })
            return false
          }
          return push(chunk)
        }
        ;(handler as (c: unknown) => void)(call)
      }) as UntypedHandleCall
    }
  }
  server.addService(serviceDefinition(service, raw, encoders), wrapped)
}

/** A bidi call as a message stream (the shape of ChatStream and ChaincodeStream). */
export interface CallStream<In, Out> {
  readonly remote: string
  send (msg: Out): Promise<void>
  recv (): Promise<In | undefined>
  close (err?: Error): Promise<void>
}

/**
 * Wraps either end of a bidi call. close() half-closes (client: recv() goes on until the server
 * ends) or ends with OK (server);
 * close(err) cancels (client) or ends with UNKNOWN and the error's text (server).
 */
export function callStream<In, Out> (call: ServerDuplexStream<In, Out> | ClientDuplexStream<Out, In>, side: 'server' | 'client', remote: string, limit = defaultQueueLimit): CallStream<In, Out> {
  const inbox = new Inbox<In>(limit)
  let closed = false
  let failed = false
  call.on('data', (msg: In) => {
    if (!inbox.push(msg)) {
      const err = new Error(`${remote} sent more than ${limit} messages that were not read`)
      inbox.end(err)
      void stream.close(err)
    }
  })
  call.on('end', () => { inbox.end() })
  call.on('error', (err: Error | { code?: number, details?: string }) => {
    failed = true
    inbox.end(err instanceof Error ? err : new Error(err.details ?? `call failed with status ${String(err.code)}`))
  })
  call.on('close', () => { inbox.end(new Error(`call with ${remote} closed`)) })
  const stream: CallStream<In, Out> = {
    remote,
    async send (msg) {
      if (closed) throw new Error(`stream to ${remote} is closed`)
      await new Promise<void>((resolve, reject) => {
        call.write(msg, (err: Error | null | undefined) => { if (err != null) reject(err); else resolve() })
      })
    },
    recv: async () => await inbox.next(),
    async close (err) {
      if (closed) return
      closed = true
      if (side === 'client') {
        // A client's clean close is CloseSend: the server's answers still arrive until it ends.
        if (err === undefined) call.end()
        else {
          inbox.end(err)
          ;(call as ClientDuplexStream<Out, In>).cancel()
        }
        return
      }
      inbox.end(err)
      if (err === undefined) {
        call.end()
      } else if (!failed) {
        // What grpc-go sends when a handler returns a plain error, as Fabric's Register does.
        call.emit('error', { code: status.UNKNOWN, details: err.message })
      }
    }
  }
  return stream
}
