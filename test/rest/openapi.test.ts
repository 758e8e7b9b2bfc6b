import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/index.ts'
import { startRest, type RestServer } from '../../node/rest/server.ts'
import { fakePeer, type FakePeer } from './fake-peer.ts'
import { http } from './http.ts'

interface Doc { openapi: string, info: { version: string }, paths: Record<string, Record<string, unknown>>, components: { schemas: Record<string, unknown> } }

let peer: FakePeer
let rest: RestServer
let doc: Doc
beforeAll(async () => {
  peer = await fakePeer()
  rest = await startRest({ peer, config: loadConfig({}), address: '127.0.0.1:0', version: '1.2.3' })
  const a = await http(rest.url, 'GET', '/openapi.json')
  expect(a.status).toBe(200)
  expect(a.headers['content-type']).toBe('application/json')
  doc = JSON.parse(a.body) as Doc
})
afterAll(async () => {
  await rest.close()
  await peer.close()
})

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch']
const openApiPath = (fastifyPath: string): string => fastifyPath.replace(/:(\w+)/g, '{$1}')

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3 document with the peer\'s version', () => {
    expect(doc.openapi).toMatch(/^3\.0\.\d+$/)
    expect(doc.info.version).toBe('1.2.3')
  })

  it('lists every route the server serves, and no other', () => {
    expect(rest.routes.length).toBeGreaterThan(10)
    const served = new Set<string>()
    for (const { method, path } of rest.routes) {
      // Fastify answers HEAD on every GET route by itself.
      if (method === 'HEAD' && rest.routes.some(r => r.method === 'GET' && r.path === path)) continue
      served.add(`${method.toLowerCase()} ${openApiPath(path)}`)
    }
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).filter(k => methods.includes(k)).map(m => `${m} ${path}`)))
    expect([...served].sort()).toEqual([...documented].sort())
  })

  it('declares every path parameter and resolves every schema reference', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      const declared = JSON.stringify(item)
      for (const [, name] of path.matchAll(/\{(\w+)\}/g)) expect(declared).toContain(`"name":"${name}","in":"path"`)
    }
    for (const [, name] of JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)) expect(doc.components.schemas).toHaveProperty(name)
  })
})
