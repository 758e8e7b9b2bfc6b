// A plain GET to the peer's REST service (rest.address), HTTPS when peer.tls is on as the
// service itself is, trusting what the gRPC clients trust.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { clientTrust, type ClientTls } from '../grpc/tls.ts'
import { PeerUnreachableError } from './peer-client.ts'

export interface RestAnswer { status: number, headers: IncomingHttpHeaders, body: string }

export async function restGet (address: string, tls: ClientTls | undefined, path: string, timeoutMs: number): Promise<RestAnswer> {
  const url = new URL(`${tls === undefined ? 'http' : 'https'}://${address}`)
  const trust = tls === undefined ? {} : await clientTrust(tls)
  const request = tls === undefined ? httpRequest : httpsRequest
  return await new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'GET', timeout: timeoutMs, ...trust, servername: tls?.serverNameOverride }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', chunk => { body += chunk })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body }) })
      res.on('error', reject)
    })
    req.on('timeout', () => { req.destroy(new Error(`no answer within ${timeoutMs} ms`)) })
    req.on('error', err => { reject(new PeerUnreachableError(`Error trying to reach the REST service at ${address} (rest.address): ${err.message}`)) })
    req.end()
  })
}
