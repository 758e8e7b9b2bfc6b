import type { IncomingMessage, ServerResponse } from 'node:http'
import type { RestReply } from './replies.ts'

export interface ChaincodeIntake {
  /** Largest body taken here; a larger one goes to fastify, which refuses it. */
  bodyLimit: number
  /** The headers every answer carries, as fastify's onSend hook sets them. */
  headers: Readonly<Record<string, string>>
  answer (body: string): Promise<RestReply>
  /** The answer to a request that failed (fastify's error handler gets the same error). */
  failed (err: Error & { statusCode?: number }): RestReply
}

/**
 * POST /chaincode taken straight from Node's request, ahead of fastify: every transaction and
 * query comes this way, and fastify's routing, hooks and request and reply objects were a fifth
 * of the REST layer's CPU per request, and much of its garbage. Only the plain case is taken
 * (that exact path, a Content-Length body within the limit, a server not closing); for anything
 * else it returns false without touching the request, and fastify's route answers it. Answers
 * are the route's, byte for byte: status, body, and the headers in the same order.
 */
export function chaincodeIntake (options: ChaincodeIntake): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { bodyLimit, answer, failed } = options
  const fixed = Object.entries(options.headers).flat()
  const reply = (res: ServerResponse, r: RestReply): void => {
    const own = r.headers === undefined ? [] : Object.entries(r.headers).flat()
    res.writeHead(r.status, [...own, ...fixed, 'content-length', String(Buffer.byteLength(r.body))])
    res.end(r.body)
  }
  return (req, res) => {
    if (req.method !== 'POST' || req.url !== '/chaincode' || req.headers['transfer-encoding'] !== undefined) return false
    const length = req.headers['content-length']
    if (length === undefined || !(Number(length) <= bodyLimit)) return false
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => { chunks.push(chunk) })
    req.on('error', (err: Error & { statusCode?: number }) => {
      // As fastify's body reader: a request that breaks off is a 400 (if anyone is left to read it).
      err.statusCode ??= 400
      reply(res, failed(err))
    })
    req.on('end', () => {
      // Decoded whole, as fastify does, so a character split across chunks stays whole.
      const body = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8')
      answer(body).then(r => { reply(res, r) }, (err: Error) => { reply(res, failed(err)) })
    })
    return true
  }
}
