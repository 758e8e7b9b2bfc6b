import { fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf'
import { MessageSchema, type Message } from '../protos/fabric_pb.ts'
import { varintSize, writeVarint } from '../util/varint.ts'
import { FrameDecodeError, MessageTooLargeError } from './errors.ts'

/** Default cap on one Chat frame; a block carrying chaincode packages stays well below it. */
export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024

/** The longest varint a 32-bit length can take. */
const MAX_PREFIX_BYTES = 5

export function varint (n: number): Uint8Array {
  const out = new Uint8Array(varintSize(n))
  writeVarint(out, 0, n)
  return out
}

/** Marshals a message, refusing one larger than `maxSize` with an error that says so. */
export function encodeMessage (msg: Message, maxSize: number, remote: string): Uint8Array {
  return encodeProto(MessageSchema, msg, maxSize, remote)
}

export function encodeProto<D extends DescMessage> (schema: D, msg: MessageShape<D>, maxSize: number, remote: string): Uint8Array {
  const body = toBinary(schema, msg)
  if (body.length > maxSize) throw new MessageTooLargeError(body.length, maxSize, 'send', remote)
  return body
}

/** A message as one length-prefixed frame (unsigned varint length, then the protobuf bytes). */
export function encodeFrame (msg: Message, maxSize: number, remote: string): Uint8Array {
  return encodeProtoFrame(MessageSchema, msg, maxSize, remote)
}

export function encodeProtoFrame<D extends DescMessage> (schema: D, msg: MessageShape<D>, maxSize: number, remote: string): Uint8Array {
  return frameOf(encodeProto(schema, msg, maxSize, remote))
}

/** Encoded bytes as one length-prefixed frame. */
export function frameOf (body: Uint8Array): Uint8Array {
  const prefix = varint(body.length)
  const out = new Uint8Array(prefix.length + body.length)
  out.set(prefix, 0)
  out.set(body, prefix.length)
  return out
}

export function decodeMessage (body: Uint8Array, remote: string): Message {
  return decodeProto(MessageSchema, body, remote)
}

export function decodeProto<D extends DescMessage> (schema: D, body: Uint8Array, remote: string): MessageShape<D> {
  try {
    return fromBinary(schema, body)
  } catch (err) {
    throw new FrameDecodeError(`undecodable ${schema.name} frame (${body.length} bytes) from ${remote}: ${(err as Error).message}`)
  }
}

/**
 * Splits a byte stream into length-prefixed frames. A frame announced larger than `maxSize`
 * is refused as soon as its prefix is read, so it is never buffered.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = []
  private buffered = 0
  private expected = -1

  constructor (private readonly maxSize: number, private readonly remote: string) {}

  /** Bytes received that do not yet form a whole frame. */
  get pendingBytes (): number { return this.buffered }

  push (data: Uint8Array): Uint8Array[] {
    if (data.length > 0) {
      this.chunks.push(data)
      this.buffered += data.length
    }
    const frames: Uint8Array[] = []
    while (true) {
      if (this.expected < 0) {
        const prefix = this.peekPrefix()
        if (prefix === undefined) break
        if (prefix.value > this.maxSize) throw new MessageTooLargeError(prefix.value, this.maxSize, 'receive', this.remote)
        this.take(prefix.bytes)
        this.expected = prefix.value
      }
      if (this.buffered < this.expected) break
      frames.push(this.take(this.expected))
      this.expected = -1
    }
    return frames
  }

  private peekPrefix (): { value: number, bytes: number } | undefined {
    let value = 0
    let scale = 1
    let bytes = 0
    for (const chunk of this.chunks) {
      for (const b of chunk) {
        value += (b & 0x7f) * scale
        scale *= 128
        bytes++
        if ((b & 0x80) === 0) return { value, bytes }
        if (bytes === MAX_PREFIX_BYTES) throw new FrameDecodeError(`bad frame length prefix from ${this.remote}: more than ${MAX_PREFIX_BYTES} bytes`)
      }
    }
    return undefined
  }

  private take (n: number): Uint8Array {
    const first = this.chunks[0]
    if (first !== undefined && first.length >= n) {
      this.chunks[0] = first.subarray(n)
      if (this.chunks[0].length === 0) this.chunks.shift()
      this.buffered -= n
      return first.subarray(0, n)
    }
    const out = new Uint8Array(n)
    let o = 0
    while (o < n) {
      const c = this.chunks[0]
      const k = Math.min(c.length, n - o)
      out.set(c.subarray(0, k), o)
      o += k
      if (k === c.length) this.chunks.shift()
      else this.chunks[0] = c.subarray(k)
    }
    this.buffered -= n
    return out
  }
}
