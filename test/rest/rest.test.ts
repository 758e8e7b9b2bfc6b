import { connect } from 'node:net'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/index.ts'
import { toBase64 } from '../../src/crypto/bytes.ts'
import { withoutCodePackages } from '../../src/events/code-package.ts'
import { goJson } from '../../src/gojson/encode.ts'
import { membershipUnavailable } from '../../src/peer-api.ts'
import { EventType, InterestSchema, type Event } from '../../src/protos/events_pb.ts'
import { BlockSchema, TransactionSchema } from '../../src/protos/fabric_pb.ts'
import { create } from '@bufbuild/protobuf'
import { startRest, type RestServer } from '../../node/rest/server.ts'
import { fakePeer, type FakePeer } from './fake-peer.ts'
import { http, rpc, type HttpAnswer } from './http.ts'

let peer: FakePeer
let rest: RestServer
const devConfig = loadConfig({ chaincodeDevMode: true })

async function call (method: string, path: string, body?: string, headers?: Record<string, string>): Promise<HttpAnswer> {
  const a = await http(rest.url, method, path, body, headers)
  // Every answer carries Fabric's middleware headers.
  expect(a.headers['content-type']).toBe('application/json')
  expect(a.headers['access-control-allow-origin']).toBe('*')
  expect(a.headers['access-control-allow-headers']).toBe('accept, content-type')
  return a
}
const post = (body: string) => call('POST', '/chaincode', body)
const rpcError = (code: number, message: string, data: string, id: string) => `{"jsonrpc":"2.0","error":{"code":${code},"message":"${message}","data":${JSON.stringify(data)}},"id":${id}}`

beforeEach(async () => {
  peer = await fakePeer()
  rest = await startRest({ peer, config: devConfig, address: '127.0.0.1:0', bodyLimit: 64 * 1024 })
})
afterEach(async () => {
  await rest.close()
  await peer.close()
})

async function deployAndInvoke (): Promise<string> {
  expect((await post(rpc('deploy', 'mycc', ['init', 'a', '100', 'b', '200']))).body).toBe('{"jsonrpc":"2.0","result":{"status":"OK","message":"mycc"},"id":1}')
  await peer.flush()
  const inv = JSON.parse((await post(rpc('invoke', 'mycc', ['invoke', 'a', 'b', '10'], 2))).body)
  await peer.flush()
  return inv.result.message
}

describe('GET /chain', () => {
  it('answers BlockchainInfo; a genesis-only chain has no previousBlockHash', async () => {
    const a = await call('GET', '/chain')
    const info = await peer.ledger.getBlockchainInfo()
    expect(a.status).toBe(200)
    expect(a.body).toBe(`{"height":1,"currentBlockHash":"${toBase64(info.currentBlockHash)}"}\n`)
    await deployAndInvoke()
    const b = await call('GET', '/chain')
    const info3 = await peer.ledger.getBlockchainInfo()
    expect(b.body).toBe(`{"height":3,"currentBlockHash":"${toBase64(info3.currentBlockHash)}","previousBlockHash":"${toBase64(info3.previousBlockHash)}"}\n`)
  })

  it('/chain/ is /chain, query strings are ignored, HEAD has no body', async () => {
    const plain = await call('GET', '/chain')
    expect((await call('GET', '/chain/')).body).toBe(plain.body)
    expect((await call('GET', '/chain?height=7&x')).body).toBe(plain.body)
    expect((await call('GET', '/ch%61in')).body).toBe(plain.body)
    const head = await call('HEAD', '/chain')
    expect(head.status).toBe(200)
    expect(head.body).toBe('')
  })
})

describe('GET /chain/blocks/:id', () => {
  it('answers the stored block as Go renders it, deploy code packages removed', async () => {
    await deployAndInvoke()
    for (const n of [0, 1, 2]) {
      const a = await call('GET', `/chain/blocks/${n}`)
      const stored = await peer.ledger.getBlockByNumber(n)
      expect(a.status).toBe(200)
      expect(a.body).toBe(goJson(BlockSchema, withoutCodePackages(stored!)) + '\n')
    }
    const block1 = JSON.parse((await call('GET', '/chain/blocks/1')).body)
    expect(block1.transactions[0]).toMatchObject({ type: 1, txid: 'mycc' })
    expect(block1.nonHashData.chaincodeEvents).toEqual([{}])
    expect((await call('GET', '/chain/blocks/002')).status).toBe(200)
  })

  it('refuses ids that are not uint64 with 400, and past the end answers 404', async () => {
    for (const id of ['abc', '-1', '+1', '1.0', '18446744073709551616', '%20', '1e3']) {
      const a = await call('GET', `/chain/blocks/${id}`)
      expect([id, a.status, a.body]).toEqual([id, 400, '{"Error":"Block id must be an integer (uint64)."}\n'])
    }
    for (const id of ['1', '18446744073709551615']) {
      const a = await call('GET', `/chain/blocks/${id}`)
      expect([a.status, a.body]).toEqual([404, '{"Error":"openchain: resource not found"}\n'])
    }
    expect((await call('GET', '/chain/blocks//')).status).toBe(400) // Go routes the empty segment as the id
    expect((await call('GET', '/chain/blocks/')).body).toBe('{"Error":"Openchain endpoint not found."}\n')
  })
})

describe('GET /transactions/:id', () => {
  it('answers a committed transaction, code package included, or 404', async () => {
    const txid = await deployAndInvoke()
    const a = await call('GET', `/transactions/${txid}`)
    expect(a.status).toBe(200)
    expect(a.body).toBe(goJson(TransactionSchema, (await peer.ledger.getTransactionByID(txid))!) + '\n')
    expect(JSON.parse(a.body)).toMatchObject({ type: 2, txid })
    expect(a.headers['weft-block']).toBe('2')
    const missing = await call('GET', '/transactions/nope%20x')
    expect([missing.status, missing.body]).toEqual([404, '{"Error":"Transaction nope x is not found."}\n'])
    expect((await call('GET', '/transactions/a%2Fb')).body).toBe('{"Error":"Openchain endpoint not found."}\n')
  })

  it('answers 410 with the reason for a transaction the peer rejected', async () => {
    await deployAndInvoke()
    const inv = JSON.parse((await post(rpc('invoke', 'mycc', ['invoke', 'a', 'nobody', '1'], 3))).body)
    await peer.flush()
    const txid: string = inv.result.message
    const a = await call('GET', `/transactions/${txid}`)
    const reason = 'Transaction or query returned with failure: Entity not found'
    expect(a.status).toBe(410)
    expect(JSON.parse(a.body)).toMatchObject({ Error: `Transaction ${txid} was rejected: ${reason}`, txid, status: 'rejected', reason })
    expect(Number.isNaN(Date.parse(JSON.parse(a.body).rejectedAt))).toBe(false)
    expect(a.headers['weft-block']).toBeUndefined()
  })
})

describe('GET /network/peers', () => {
  it('lists the known peers and this peer (no pkiID without security)', async () => {
    const a = await call('GET', '/network/peers')
    expect(a.status).toBe(200)
    expect(a.body).toBe('{"peers":[{"ID":{"name":"vp1"},"address":"127.0.0.1:7151","type":1},{"ID":{"name":"vp0"},"address":"127.0.0.1:7051","type":1}]}\n')
  })
})

describe('routing', () => {
  it('answers unknown paths and methods with Fabric\'s 404', async () => {
    for (const [m, p] of [['GET', '/'], ['GET', '/nope'], ['POST', '/chain'], ['GET', '/CHAIN'], ['GET', '/chaincode'], ['PUT', '/chaincode'], ['GET', '//chain'], ['DELETE', '/chain/blocks/1']]) {
      const a = await call(m, p)
      expect([m, p, a.status, a.body]).toEqual([m, p, 404, '{"Error":"Openchain endpoint not found."}\n'])
    }
  })

  it('answers OPTIONS with the route\'s methods and an empty body', async () => {
    for (const [p, methods] of [['/chain', 'GET'], ['/chaincode', 'POST'], ['/registrar', 'POST'], ['/registrar/jim', 'GET, DELETE'], ['/chain/blocks/4', 'GET'], ['/network/peers', 'GET'], ['/transactions/x', 'GET'], ['/registrar/jim/tcert', 'GET']]) {
      const a = await call('OPTIONS', p)
      expect([p, a.status, a.headers['access-control-allow-methods'], a.body]).toEqual([p, 200, methods, ''])
    }
    expect((await call('OPTIONS', '/nowhere')).status).toBe(404)
  })

  it('refuses a malformed escape as Go\'s server does', async () => {
    const a = await http(rest.url, 'GET', '/chain/blocks/%zz')
    expect([a.status, a.body, a.headers['content-type']]).toEqual([400, '400 Bad Request', 'text/plain; charset=utf-8'])
  })
})

describe('POST /chaincode', () => {
  it('deploys, invokes and queries (200 bodies without a trailing newline)', async () => {
    expect((await post(rpc('deploy', 'mycc', ['init', 'a', '100', 'b', '200'], 'd1'))).body).toBe('{"jsonrpc":"2.0","result":{"status":"OK","message":"mycc"},"id":"d1"}')
    await peer.flush()
    const inv = await post(rpc('invoke', 'mycc', ['invoke', 'a', 'b', '10'], 2))
    expect(inv.status).toBe(200)
    expect(inv.body).toMatch(/^\{"jsonrpc":"2.0","result":\{"status":"OK","message":"[0-9a-f-]{36}"\},"id":2\}$/)
    await peer.flush()
    const q = await post('{"jsonrpc":"2.0","method":"query","params":{"type":1,"chaincodeID":{"name":"mycc"},"ctorMsg":{"function":"query","args":["a"]}},"id":3}')
    expect(q.body).toBe('{"jsonrpc":"2.0","result":{"status":"OK","message":"90"},"id":3}')
  })

  it('answers request errors with Fabric\'s codes, statuses and texts', async () => {
    const cases: Array<[string, number, string]> = [
      ['', 400, rpcError(-32600, 'Invalid request', 'Client must supply a payload for chaincode requests.', 'null') + '\n'],
      ['{"jsonrpc":"2.0",', 400, rpcError(-32700, 'Parse error', 'Error unmarshalling chaincode request payload: unexpected end of JSON input', 'null') + '\n'],
      ['<xml/>', 400, rpcError(-32700, 'Parse error', "Error unmarshalling chaincode request payload: invalid character '\u003c' looking for beginning of value", 'null').replace('<', '\\u003c') + '\n'],
      ['{"method":"query","id":5}', 400, rpcError(-32600, 'Invalid request', 'Missing JSON RPC 2.0 version string.', '5') + '\n'],
      ['{"jsonrpc":"1.0","method":"query","id":5}', 400, rpcError(-32600, 'Invalid request', 'Invalid JSON RPC 2.0 version string. Must be 2.0.', '5') + '\n'],
      ['{"jsonrpc":"2.0","id":5}', 400, rpcError(-32600, 'Invalid request', 'Missing JSON RPC 2.0 method string.', '5') + '\n'],
      ['{"jsonrpc":"2.0","method":"transfer","id":5}', 404, rpcError(-32601, 'Method not found', 'Requested method does not exist.', '5') + '\n'],
      ['{"jsonrpc":"2.0","method":"invoke","id":5}', 400, rpcError(-32602, 'Invalid params', 'Client must supply ChaincodeSpec for chaincode deploy request.', '5') + '\n'],
      ['{"jsonrpc":"2.0","method":"invoke","params":{"ctorMsg":{"args":["a"]}},"id":5}', 200, rpcError(-32602, 'Invalid params', 'Payload must contain a ChaincodeID.', '5')],
      [rpc('invoke', '', ['a'], 5), 200, rpcError(-32602, 'Invalid params', 'Chaincode name may not be blank.', '5')],
      [rpc('invoke', 'mycc', [], 5), 200, rpcError(-32602, 'Invalid params', 'Payload must contain a CtorMsg with a Chaincode function name.', '5')],
      [rpc('deploy', '', ['init'], 5), 200, rpcError(-32602, 'Invalid params', 'Chaincode name may not be blank in development mode.', '5')],
      [rpc('query', 'mycc', ['query', 'a'], 5), 200, rpcError(-32003, 'Query failure', 'Error when querying chaincode: chaincode mycc is not deployed', '5')],
      ['{"jsonrpc":"2.0","method":"query","params":{"type":"GOLANG"},"id":5}', 400, rpcError(-32700, 'Parse error', 'Error unmarshalling chaincode request payload: json: cannot unmarshal string into Go struct field ChaincodeSpec.params.type of type protos.ChaincodeSpec_Type', 'null') + '\n'],
      ['{"jsonrpc":"2.0","method":"query","id":1.5}', 400, rpcError(-32700, 'Parse error', 'Error unmarshalling chaincode request payload: cannot unmarshal 1.5 into Go value of type int64 or string', 'null') + '\n']
    ]
    for (const [body, status, expected] of cases) {
      const a = await post(body)
      expect([body, a.status, a.body]).toEqual([body, status, expected])
    }
    expect(peer.ledger.height).toBe(1)
  })

  it('reports a query for a missing key as example02 does', async () => {
    await post(rpc('deploy', 'mycc', ['init', 'a', '100', 'b', '200']))
    await peer.flush()
    const a = await post(rpc('query', 'mycc', ['query', 'zz'], 9))
    expect(a.body).toBe(rpcError(-32003, 'Query failure', 'Error when querying chaincode: {"Error":"Nil amount for zz"}', '9'))
  })

  it('answers deploy and invoke failures with -32001 and -32002', async () => {
    await peer.stop()
    expect((await post(rpc('deploy', 'mycc', ['init', 'a', '1', 'b', '2']))).body).toBe(rpcError(-32001, 'Deployment failure', 'Error when deploying chaincode: peer is stopped', '1'))
    expect((await post(rpc('invoke', 'mycc', ['invoke', 'a', 'b', '1']))).body).toBe(rpcError(-32002, 'Invocation failure', 'Error when invoking chaincode: peer is stopped', '1'))
  })

  it('runs a notification and answers it with an empty 200, errors included', async () => {
    await post(rpc('deploy', 'mycc', ['init', 'a', '100', 'b', '200']))
    await peer.flush()
    const a = await post(rpc('invoke', 'mycc', ['invoke', 'a', 'b', '1'], null))
    expect([a.status, a.body]).toEqual([200, ''])
    await peer.flush()
    expect(peer.ledger.height).toBe(3)
    expect((await post('{"jsonrpc":"2.0","method":"nope"}')).body).toBe('')
    expect((await post('{"jsonrpc":"2.0","method":"invoke","id":null}')).body).toBe('')
  })

  it('accepts a failed invoke, then sends REJECTION, commits an empty block, and answers its id as rejected', async () => {
    const rejections: Event[] = []
    peer.hub.subscribe([create(InterestSchema, { eventType: EventType.REJECTION })], ev => { rejections.push(ev) })
    const before = await peer.ledger.getBlockchainInfo()
    const a = await post(rpc('invoke', 'nocc', ['invoke', 'a', 'b', '1'], 7))
    expect(a.status).toBe(200)
    const txid = JSON.parse(a.body).result.message
    await peer.flush()
    await new Promise(resolve => setTimeout(resolve, 20))
    expect(rejections).toHaveLength(1)
    expect(rejections[0].Event.case === 'rejection' && rejections[0].Event.value.errorMsg).toBe('Transaction or query returned with failure: chaincode nocc is not deployed')
    expect((await call('GET', `/transactions/${txid}`)).status).toBe(410)
    const block = JSON.parse((await call('GET', '/chain/blocks/1')).body)
    expect(block.transactions).toBeUndefined()
    expect(block.nonHashData.chaincodeEvents).toEqual([{}])
    expect(block.stateHash).toBeUndefined() // state unchanged (still empty)
    expect(toBase64((await peer.ledger.getBlockchainInfo()).previousBlockHash)).toBe(toBase64(before.currentBlockHash))
  })

  it('refuses an oversized body without touching the ledger', async () => {
    const big = rpc('invoke', 'mycc', ['invoke', 'a'.repeat(70 * 1024), 'b', '1'])
    const a = await post(big)
    expect(a.status).toBe(413)
    expect(a.body).toBe(rpcError(-32600, 'Invalid request', 'Request body is larger than the limit of 65536 bytes.', 'null') + '\n')
    await peer.flush()
    expect(peer.ledger.height).toBe(1)
    expect((await call('POST', '/registrar', 'x'.repeat(70 * 1024))).body).toBe('{"Error":"Request body is larger than the limit of 65536 bytes."}\n')
    // ...and serves on.
    expect((await call('GET', '/chain')).status).toBe(200)
  })

  it('answers the plain POST /chaincode (taken in ahead of fastify) exactly as the route answers other spellings and chunked bodies', async () => {
    await post(rpc('deploy', 'mycc', ['init', 'a', '100', 'b', '200']))
    await peer.flush()
    const raw = async (head: string, body: string): Promise<string> => await new Promise((resolve, reject) => {
      const s = connect(Number(new URL(rest.url).port), '127.0.0.1')
      let data = ''
      s.on('data', chunk => { data += String(chunk) })
      s.on('close', () => { resolve(data.replace(/\r\ndate: [^\r]*/i, '')) })
      s.on('error', reject)
      s.write(`${head}\r\nConnection: close\r\n\r\n${body}`)
    })
    const bodies = [rpc('query', 'mycc', ['query', 'a'], 4), rpc('query', 'mycc', ['query', 'zz'], 'q'), '{"jsonrpc":"2.0",', '{"jsonrpc":"2.0","method":"x","id":1}', rpc('query', 'mycc', ['query', 'a'], null), '', 'é\u2028']
    for (const body of bodies) {
      const length = Buffer.byteLength(body)
      const plain = await raw(`POST /chaincode HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}`, body)
      const chunked = await raw('POST /chaincode HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked', length === 0 ? '0\r\n\r\n' : `${length.toString(16)}\r\n${body}\r\n0\r\n\r\n`)
      const slash = await raw(`POST /chaincode/ HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}`, body)
      expect(plain).toMatch(/^HTTP\/1\.1 [0-9]{3} /)
      expect([body, chunked]).toEqual([body, plain])
      expect([body, slash]).toEqual([body, plain])
    }
  })

  it('reads the body whatever the Content-Type says', async () => {
    const a = await call('POST', '/chaincode', rpc('deploy', 'mycc', ['init', 'a', '1', 'b', '2']), { 'content-type': 'text/plain' })
    expect(a.body).toBe('{"jsonrpc":"2.0","result":{"status":"OK","message":"mycc"},"id":1}')
    for (const contentType of ['', ';;;', 'application/x-weird', 'multipart/form-data; boundary=x', 'application/json; charset=latin1']) {
      const q = await call('POST', '/chaincode', rpc('query', 'nosuch', ['query', 'a']), { 'content-type': contentType })
      expect([contentType, q.status, JSON.parse(q.body).error.code]).toEqual([contentType, 200, -32003])
    }
  })

  it('answers CONNECT as an unknown endpoint', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const s = connect(Number(new URL(rest.url).port), '127.0.0.1')
      let data = ''
      s.on('data', chunk => { data += String(chunk) })
      s.on('close', () => { resolve(data) })
      s.on('error', reject)
      s.write('CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n')
    })
    expect(answer).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/)
    expect(answer.endsWith('\r\n\r\n{"Error":"Openchain endpoint not found."}\n')).toBe(true)
  })
})

describe('POST /chaincode with security enabled', () => {
  let secure: RestServer
  beforeAll(async () => { secure = await startRest({ peer: await fakePeer(), config: loadConfig({ env: { CORE_SECURITY_ENABLED: 'true' }, chaincodeDevMode: true }), address: '127.0.0.1:0' }) })
  afterAll(async () => { await secure.close() })

  it('needs a user, then a registration nobody can have', async () => {
    const noUser = await http(secure.url, 'POST', '/chaincode', rpc('invoke', 'mycc', ['a']))
    expect(noUser.body).toBe(rpcError(-32602, 'Invalid params', 'Must supply username for chaincode when security is enabled.', '1'))
    const user = await http(secure.url, 'POST', '/chaincode', '{"jsonrpc":"2.0","method":"invoke","params":{"chaincodeID":{"name":"mycc"},"ctorMsg":{"args":["a"]},"secureContext":"jim"},"id":1}')
    expect([user.status, user.body]).toEqual([200, rpcError(-32000, 'Registration missing', "User not logged in. Use the '/registrar' endpoint to obtain a security token.", '1')])
  })
})

describe('/registrar without membership services', () => {
  it('refuses login with 401 after Fabric\'s request checks', async () => {
    const cases: Array<[string, number, string]> = [
      ['', 400, 'Payload must contain object Secret with enrollId and enrollSecret fields.'],
      ['{"enrollId":', 400, 'unexpected EOF'],
      ['[1]', 400, 'json: cannot unmarshal array into Go value of type map[string]json.RawMessage'],
      ['{"enrollId":1}', 400, 'json: cannot unmarshal number into Go value of type string'],
      ['{"enrollId":"jim","enrollSecret":"x","extra":1}', 400, 'unknown field "extra" in protos.Secret'],
      ['{"enrollId":"jim"}', 400, 'enrollId and enrollSecret may not be blank.'],
      ['{"enrollId":"j-m","enrollSecret":"x"}', 400, 'Invalid enrollment ID parameter'],
      ['{"enrollId":"jim","enrollSecret":"x"} trailing', 401, membershipUnavailable(false)]
    ]
    for (const [body, status, error] of cases) {
      const a = await call('POST', '/registrar', body)
      expect([body, a.status, a.body]).toEqual([body, status, `{"Error":${JSON.stringify(error)}}\n`])
    }
  })

  it('has nobody logged in and no certificates', async () => {
    expect(await call('GET', '/registrar/jim').then(a => [a.status, a.body])).toEqual([401, '{"Error":"User jim must log in."}\n'])
    expect(await call('DELETE', '/registrar/jim').then(a => [a.status, a.body])).toEqual([200, '{"OK":"User jim is not logged in."}\n'])
    const noSec = '{"Error":"Security functionality must be enabled before requesting client certificates."}\n'
    expect(await call('GET', '/registrar/jim/ecert').then(a => [a.status, a.body])).toEqual([400, noSec])
    expect(await call('GET', '/registrar/jim/tcert?count=3').then(a => [a.status, a.body])).toEqual([400, noSec])
    expect(await call('GET', '/registrar/jim/tcert?count=x').then(a => [a.status, a.body])).toEqual([400, '{"Error":"Count query parameter must be a non-negative integer."}\n'])
    expect(await call('GET', '/registrar/j%2Bm').then(a => [a.status, a.body])).toEqual([400, '{"Error":"Invalid enrollment ID parameter"}\n'])
  })
})

describe('bad input never reaches the ledger', () => {
  it('garbage bodies get the JSON-RPC error and nothing is submitted', async () => {
    const garbage = ['\u0000\u0001', '{"jsonrpc":"2.0","method":"invoke","params":[],"id":1}', '{"jsonrpc":"2.0","method":"invoke","params":{"ctorMsg":{"args":[1]}},"id":1}', '}{', 'null', '[]', '"x"', '{"id":{}}']
    for (const body of garbage) {
      const a = await post(body)
      expect(a.status === 400 || (body === 'null' && a.status === 200)).toBe(true)
    }
    await peer.flush()
    expect(peer.ledger.height).toBe(1)
  })
})

describe('startRest', () => {
  it('names the address it cannot listen on', async () => {
    const port = new URL(rest.url).port
    await expect(startRest({ peer, config: devConfig, address: `127.0.0.1:${port}` })).rejects.toThrow(`rest.address: cannot listen on 127.0.0.1:${port}`)
    await expect(startRest({ peer, config: devConfig, address: 'nowhere' })).rejects.toThrow('rest.address: "nowhere" is not a host:port address')
  })
})
