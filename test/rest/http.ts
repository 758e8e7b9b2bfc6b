// Raw HTTP for the REST tests: the path goes on the wire as given (no URL normalisation).
import { request as httpRequest } from 'node:http'

export interface HttpAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

export function http (base: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, res => {
      let data = ''
      res.setEncoding('utf8')
      res.on('data', chunk => { data += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** A JSON-RPC /chaincode request body; a null id makes it a notification. */
export function rpc (method: string, name: string, args: string[], id: number | string | null = 1): string {
  const req: Record<string, unknown> = { jsonrpc: '2.0', method, params: { type: 1, chaincodeID: { name }, ctorMsg: { args } } }
  if (id !== null) req.id = id
  return JSON.stringify(req)
}
