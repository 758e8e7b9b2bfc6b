// Membership services for browser tabs, which cannot speak gRPC: /weft/ca/0.6.1 carries one
// unary call of membersrvc's public APIs (ECAP, TCAP, TLSCAP) per stream, which a
// security-enabled Node peer relays to the CA it enrolled with. Admin services (ECAA, TCAA,
// TLSCAA) are never relayed: registering users stays with registrars that reach the CA directly.
import { fromBinary, toBinary, type DescMethod, type DescService } from '@bufbuild/protobuf'
import type { Libp2p } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { fromUtf8, utf8 } from '../crypto/bytes.ts'
import type { CaRpc } from '../crypto/fabric/ca-rpc.ts'
import { ECAP, TCAP, TLSCAP } from '../protos/ca_pb.ts'
import { errorMessage } from '../util/errors.ts'
import { createLogger } from '../util/logger.ts'
import { parseAddress } from './libp2p-chat.ts'

export const CA_PROTOCOL = '/weft/ca/0.6.1'

/** Largest request or answer: a TCert batch of a few hundred certificates fits. */
export const CA_MAX_MESSAGE_SIZE = 1024 * 1024

/** How long one relayed call may take end to end (ms). */
const CA_CALL_TIMEOUT = 30_000

const OK = 0
const FAILED = 1

const log = createLogger('libp2p-ca')

/** The relayed services, by the key CaRpc gives each. */
const SERVICES: ReadonlyArray<[keyof CaRpc, DescService]> = [['ecap', ECAP], ['tcap', TCAP], ['tlscap', TLSCAP]]

type UnaryCall = (req: unknown) => Promise<unknown>

/** A request frame: the gRPC path ("/protos.ECAP/CreateCertificatePair") as one length byte and UTF-8, then the message. */
export function encodeCaRequest (path: string, message: Uint8Array): Uint8Array {
  const p = utf8(path)
  if (p.length > 255) throw new Error(`method path too long: ${path}`)
  const out = new Uint8Array(1 + p.length + message.length)
  out[0] = p.length
  out.set(p, 1)
  out.set(message, 1 + p.length)
  return out
}

function tooLarge (maxSize: number): Uint8Array {
  return encodeAnswer(FAILED, utf8(`request is larger than ${maxSize} bytes`))
}

/** An answer frame: a status byte, then the response message or the error's text. */
function encodeAnswer (status: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + payload.length)
  out[0] = status
  out.set(payload, 1)
  return out
}

function lookup (path: string): { key: keyof CaRpc, method: DescMethod } | undefined {
  const m = /^\/([\w.]+)\/(\w+)$/.exec(path)
  if (m === null) return undefined
  for (const [key, service] of SERVICES) {
    if (service.typeName !== m[1]) continue
    const method = service.methods.find(x => x.name === m[2])
    return method !== undefined && method.methodKind === 'unary' ? { key, method } : undefined
  }
  return undefined
}

/**
 * The relay's side of one call: decodes the request, calls `rpc` and encodes the answer. Unknown
 * and admin methods, undecodable requests and failed calls are answered with the reason (the
 * CA's own refusal, or why it could not be reached).
 */
export async function relayCaRequest (rpc: CaRpc, frame: Uint8Array, maxSize = CA_MAX_MESSAGE_SIZE): Promise<Uint8Array> {
  const fail = (why: string): Uint8Array => encodeAnswer(FAILED, utf8(why))
  if (frame.length > maxSize) return tooLarge(maxSize)
  if (frame.length < 1 || frame.length < 1 + frame[0]) return fail('malformed membership services request')
  const path = fromUtf8(frame.subarray(1, 1 + frame[0]))
  const target = lookup(path)
  if (target === undefined) return fail(`unknown method ${path}: only ECAP, TCAP and TLSCAP are relayed`)
  let req: unknown
  try {
    // A copy (Node's Buffer.slice would not be one): the CA may keep the request's bytes after the stream's buffers are reused.
    req = fromBinary(target.method.input, new Uint8Array(frame.subarray(1 + frame[0])))
  } catch (err) {
    return fail(`cannot decode ${path} request: ${errorMessage(err)}`)
  }
  let res: unknown
  try {
    res = await (rpc[target.key] as unknown as Record<string, UnaryCall>)[target.method.localName](req)
  } catch (err) {
    return fail(`membership services: ${errorMessage(err)}`)
  }
  const bytes = toBinary(target.method.output, res as never)
  if (bytes.length + 1 > maxSize) return fail(`${path} answer of ${bytes.length} bytes is larger than ${maxSize} bytes`)
  return encodeAnswer(OK, bytes)
}

/** A CaRpc whose calls are frames handed to `send`, which returns the answer frame (over libp2p, or straight to a relay in tests). */
export function framedCaRpc (send: (frame: Uint8Array) => Promise<Uint8Array>): CaRpc {
  const rpc: Record<string, Record<string, UnaryCall>> = {}
  for (const [key, service] of SERVICES) {
    const calls: Record<string, UnaryCall> = {}
    for (const method of service.methods) {
      if (method.methodKind !== 'unary') continue
      const path = `/${service.typeName}/${method.name}`
      calls[method.localName] = async (req) => {
        const answer = await send(encodeCaRequest(path, toBinary(method.input, req as never)))
        if (answer.length === 0) throw new Error(`empty answer to ${path}`)
        if (answer[0] !== OK) throw new Error(fromUtf8(answer.subarray(1)))
        return fromBinary(method.output, new Uint8Array(answer.subarray(1)))
      }
    }
    rpc[key] = calls
  }
  return rpc as unknown as CaRpc
}

/** Serves CA_PROTOCOL on `node`, relaying to `rpc`; returns the function that stops serving it. */
export async function serveLibp2pCa (node: Libp2p, rpc: CaRpc): Promise<() => Promise<void>> {
  await node.handle(CA_PROTOCOL, async (stream) => {
    const signal = AbortSignal.timeout(CA_CALL_TIMEOUT)
    const lp = lpStream(stream, { maxDataLength: CA_MAX_MESSAGE_SIZE })
    try {
      let answer: Uint8Array
      try {
        answer = await relayCaRequest(rpc, (await lp.read({ signal })).subarray())
      } catch (err) {
        // Refused from its length prefix, unread.
        if ((err as Error).name !== 'InvalidDataLengthError') throw err
        answer = tooLarge(CA_MAX_MESSAGE_SIZE)
      }
      await lp.write(answer, { signal })
      await stream.close({ signal })
    } catch (err) {
      log.warn(`membership services call over libp2p failed: ${errorMessage(err)}`)
      stream.abort(err as Error)
    }
  }, { runOnLimitedConnection: true, maxInboundStreams: 16 })
  return () => node.unhandle(CA_PROTOCOL)
}

/** The CaRpc of a tab: each call a CA_PROTOCOL stream to the peer at `address` (a multiaddr with /p2p/<id>). */
export function libp2pCaRpc (node: Libp2p, address: string): CaRpc {
  return framedCaRpc(async frame => {
    const signal = AbortSignal.timeout(CA_CALL_TIMEOUT)
    let stream
    try {
      stream = await node.dialProtocol(parseAddress(address), CA_PROTOCOL, { runOnLimitedConnection: true, signal })
    } catch (err) {
      throw new Error(`cannot reach membership services through the peer at ${address} (${CA_PROTOCOL}): ${errorMessage(err)}`)
    }
    try {
      const lp = lpStream(stream, { maxDataLength: CA_MAX_MESSAGE_SIZE })
      await lp.write(frame, { signal })
      const answer = await lp.read({ signal })
      await stream.close({ signal })
      return answer.subarray()
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  })
}
