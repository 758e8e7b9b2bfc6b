// The client verbs of `weft` (Fabric's `peer node status|stop`, `peer chaincode deploy|invoke|query`,
// `peer network list`) against the gRPC services of a peer that really runs chaincode.
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as example02 from '../../examples/chaincode/example02.ts'
import { EXAMPLES_ROOT, packageChaincode } from '../../node/chaincode/package.ts'
import { addAdminService } from '../../node/grpc/admin-service.ts'
import { addDevopsService } from '../../node/grpc/devops-service.ts'
import { addOpenchainService } from '../../node/grpc/openchain-service.ts'
import { addPeerService } from '../../node/grpc/peer-service.ts'
import { startGrpcServer, type GrpcServer } from '../../node/grpc/server.ts'
import { nodeChaincodeName } from '../../src/chaincode/package.ts'
import { asChaincode } from '../../src/chaincode/shim/chaincode.ts'
import { toHex, utf8 } from '../../src/crypto/bytes.ts'
import { ServerStatus_StatusCode } from '../../src/protos/server_admin_pb.ts'
import { setLogLevel } from '../../src/util/logger.ts'
import { chaincodePeer, type ChaincodePeer } from './chaincode-peer.ts'
import { weftWith, type Run } from './weft-cli.ts'
import { finish, Proc } from '../helpers/processes.ts'
import { SERVER_NAME, serverTls, tlsFiles } from '../helpers/tls-fixtures.ts'

const example02Path = fileURLToPath(new URL('../../examples/chaincode/example02.ts', import.meta.url))

interface Served { peer: ChaincodePeer, server: GrpcServer }
let net: Served
let dev: Served

async function serve (peer: ChaincodePeer): Promise<Served> {
  const server = await startGrpcServer({ address: '127.0.0.1:0', key: 'peer.listenAddress' }, s => {
    addPeerService(s, peer)
    addAdminService(s, peer)
    addDevopsService(s, peer, { securityEnabled: false })
    addOpenchainService(s, peer)
  })
  return { peer, server }
}

beforeAll(async () => {
  setLogLevel('warn')
  net = await serve(await chaincodePeer())
  dev = await serve(await chaincodePeer({ devChaincodes: { mycc: asChaincode(example02) } }))
})
afterAll(async () => {
  for (const s of [net, dev]) {
    await s.server.close(100)
    await s.peer.close()
  }
  setLogLevel('info')
})

const weft = async (address: string, ...args: string[]): Promise<Run> => await weftWith({}, address, ...args)

const ctor = (...args: string[]): string => JSON.stringify({ Args: args })

describe('weft client verbs against a running peer', () => {
  it('node status prints the status as Fabric does', async () => {
    expect(await weft(net.server.address, 'node', 'status')).toEqual({ code: 0, out: 'status:STARTED \n', err: '' })
  })

  it('deploys a JS chaincode from -p, then queries and invokes it by the name deploy printed', async () => {
    const deployed = await weft(net.server.address, 'chaincode', 'deploy', '-p', example02Path, '-c', ctor('init', 'a', '100', 'b', '200'))
    const name = nodeChaincodeName(await packageChaincode(example02Path, { roots: [EXAMPLES_ROOT] }), ['init', 'a', '100', 'b', '200'].map(utf8))
    expect(deployed).toEqual({ code: 0, out: `Deploy chaincode: ${name}\n`, err: '' })
    expect((await net.peer.getTransactionByID(name))?.txid).toBe(name)

    expect(await weft(net.server.address, 'chaincode', 'query', '-n', name, '-c', ctor('query', 'a'))).toEqual({ code: 0, out: 'Query Result: 100\n', err: '' })

    const invoked = await weft(net.server.address, 'chaincode', 'invoke', '-n', name, '-c', '{"Function":"invoke","Args":["a","b","10"]}')
    expect(invoked).toMatchObject({ code: 0, err: '' })
    const txid = /^Successfully invoked transaction: ([0-9a-f-]{36})\n$/.exec(invoked.out)?.[1]
    expect(txid).toBeDefined()
    expect((await net.peer.getTransactionByID(txid!))?.txid).toBe(txid)

    expect((await weft(net.server.address, 'chaincode', 'query', '-n', name, '-c', ctor('query', 'b'))).out).toBe('Query Result: 210\n')
    expect((await weft(net.server.address, 'chaincode', 'query', '-n', name, '-c', ctor('query', 'a'), '-x')).out).toBe(`Query Result: ${toHex(utf8('90'))}\n`)
    expect((await weft(net.server.address, 'chaincode', 'query', '-n', name, '-c', ctor('query', 'a'), '--raw')).out).toBe('Query Result (Raw): 90')
  })

  it('deploys by name in dev mode through Devops.Deploy, GOLANG by default as Fabric', async () => {
    expect(await weft(dev.server.address, 'chaincode', 'deploy', '-n', 'mycc', '-c', ctor('init', 'a', '100', 'b', '200'))).toEqual({ code: 0, out: 'Deploy chaincode: mycc\n', err: '' })
    expect(await weft(dev.server.address, 'chaincode', 'query', '-n', 'mycc', '-c', ctor('query', 'a'))).toEqual({ code: 0, out: 'Query Result: 100\n', err: '' })
    const deployTx = await dev.peer.getTransactionByID('mycc')
    expect(deployTx?.txid).toBe('mycc')
  })

  it('reports a failed call in one line, with Fabric\'s wording and grpc-go\'s status text', async () => {
    const missing = await weft(dev.server.address, 'chaincode', 'query', '-n', 'mycc', '-c', ctor('query', 'zz'))
    expect(missing).toEqual({ code: 1, out: '', err: 'Error: Error querying chaincode: rpc error: code = 2 desc = Transaction or query returned with failure: {"Error":"Nil amount for zz"}\n' })
    const undeployed = await weft(net.server.address, 'chaincode', 'deploy', '-n', 'other', '-c', ctor('init'))
    expect(undeployed).toEqual({ code: 1, out: '', err: 'Error: Error building chaincode: rpc error: code = 2 desc = this peer deploys NODE packages sent as transactions only\n' })
  })

  it('network list prints the peers as Fabric\'s json.Marshal does', async () => {
    expect(await weft(net.server.address, 'network', 'list')).toEqual({ code: 0, out: '{"Peers":[{"ID":{"name":"vp1"},"address":"127.0.0.1:7151","type":1}]}\n', err: '' })
  })

  it('refuses bad flags with Fabric\'s messages before calling the peer', async () => {
    const cases: Array<[string[], string]> = [
      [['chaincode', 'deploy', '-c', ctor('init')], 'Must supply value for chaincode path parameter (-p PATH; in dev mode -n NAME).'],
      [['chaincode', 'query', '-c', ctor('query', 'a')], 'Must supply value for chaincode name parameter (-n NAME, as deploy printed it) to query.'],
      [['chaincode', 'deploy', '-l', 'cobol', '-p', 'x'], 'unknown chaincode language "cobol": use golang, node, car or java'],
      [['chaincode', 'invoke', '-n', 'mycc'], "Empty JSON chaincode parameters must contain the following keys: 'Args' or 'Function' and 'Args'"],
      [['chaincode', 'invoke', '-n', 'mycc', '-c', '{"Args":[],"x":1}'], "Non-empty JSON chaincode parameters must contain the following keys: 'Args' or 'Function' and 'Args'"],
      [['chaincode', 'invoke', '-n', 'mycc', '-c', '{"Args":['], 'Chaincode argument error: unexpected end of JSON input'],
      [['chaincode', 'invoke', '-n', 'mycc', '-c', '{"Args":[1]}'], 'Chaincode argument error: json: cannot unmarshal number into Go value of type string'],
      [['chaincode', 'invoke', '-n', 'mycc', '-l', 'cobol', '-c', ctor('x')], 'unknown chaincode language "cobol": use golang, node, car or java'],
      [['chaincode', 'query', '-n', 'mycc', '-c', ctor('query', 'a'), '-r', '-x'], 'Options --raw (-r) and --hex (-x) are not compatible'],
      [['chaincode', 'query', '-p', example02Path, '-c', ctor('query', 'a')], 'a NODE chaincode is invoked and queried by name: give -n with the name deploy printed'],
      [['chaincode', 'deploy', '-p', '/nonexistent/cc.ts', '-c', ctor('init')], 'chaincode path /nonexistent/cc.ts does not exist']
    ]
    for (const [args, message] of cases) {
      expect([args, await weft(dev.server.address, ...args)]).toEqual([args, { code: 1, out: '', err: `Error: ${message}\n` }])
    }
  })

  it('node stop asks the peer to stop and prints STOPPED', async () => {
    const peer = await chaincodePeer()
    const s = await serve(peer)
    try {
      expect(await weft(s.server.address, 'node', 'stop')).toEqual({ code: 0, out: 'status:STOPPED \n', err: '' })
      expect(peer.status()).toBe(ServerStatus_StatusCode.STOPPED)
    } finally {
      await s.server.close(100)
      await peer.close()
    }
  })

  it('reaches a TLS peer with peer.tls.* as Fabric\'s CLI does', async () => {
    const server = await startGrpcServer({ address: '127.0.0.1:0', key: 'peer.listenAddress', tls: serverTls() }, s => { addAdminService(s, net.peer) })
    try {
      const env = { CORE_PEER_TLS_ENABLED: 'true', CORE_PEER_TLS_CERT_FILE: tlsFiles.server, CORE_PEER_TLS_SERVERHOSTOVERRIDE: SERVER_NAME }
      expect(await weftWith(env, server.address, 'node', 'status')).toEqual({ code: 0, out: 'status:STARTED \n', err: '' })
      expect(await weft(server.address, 'node', 'status')).toMatchObject({ code: 1, err: `Error: Error trying to connect to local peer: cannot connect to ${server.address}: the connection failed\n` })
    } finally {
      await server.close(100)
    }
  })

  it('says in one line that no peer answers, with a non-zero exit status', async () => {
    const refused = 'Error: Error trying to connect to local peer: cannot connect to 127.0.0.1:1: the connection failed\n'
    expect(await weft('127.0.0.1:1', 'node', 'status')).toEqual({ code: 1, out: 'status:UNKNOWN \n', err: refused })
    expect(await weft('127.0.0.1:1', 'chaincode', 'query', '-n', 'mycc', '-c', ctor('query', 'a'))).toEqual({ code: 1, out: '', err: refused })
    expect(await weft('127.0.0.1:1', 'network', 'list')).toEqual({ code: 1, out: '', err: refused })
    expect(await weft('127.0.0.1:1', 'node', 'stop')).toEqual({ code: 1, out: '', err: refused })
  })

  it('bin/weft.mjs reads CORE_PEER_ADDRESS and exits non-zero without a stack trace when the peer is gone', async () => {
    const run = async (address: string, ...args: string[]): Promise<Run> => {
      const done = await finish(Proc.weft(args, { env: { CORE_PEER_ADDRESS: address } }))
      return { code: done.code ?? -1, out: done.stdout, err: done.stderr }
    }
    expect(await run(net.server.address, 'node', 'status')).toEqual({ code: 0, out: 'status:STARTED \n', err: '' })
    expect(await run('127.0.0.1:1', 'node', 'status')).toEqual({
      code: 1, out: 'status:UNKNOWN \n', err: 'Error: Error trying to connect to local peer: cannot connect to 127.0.0.1:1: the connection failed\n'
    })
  })
})
