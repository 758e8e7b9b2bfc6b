// Connection limits at the edge: an attacker on one address holds its cap on REST and gRPC
// while an honest client on another address is served; sockets that stay silent, drip bytes or
// never finish a handshake are closed within the configured timeouts, and a refusal is logged.
import { connect, type Socket } from 'node:net'
import { credentials, makeClientConstructor, type Client } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/index.ts'
import { Openchain } from '../../src/protos/api_pb.ts'
import { addOpenchainService } from '../../node/grpc/openchain-service.ts'
import { startGrpcServer, type GrpcServer } from '../../node/grpc/server.ts'
import { createNodeLibp2p } from '../../node/libp2p/create-node.ts'
import { clientConstructor } from '../../node/grpc/service-definition.ts'
import { limitsFromConfig } from '../../node/net/connection-guard.ts'
import { startRest, type RestServer } from '../../node/rest/server.ts'
import { EmptySchema } from '@bufbuild/protobuf/wkt'
import { create } from '@bufbuild/protobuf'
import { fakePeer, type FakePeer } from '../rest/fake-peer.ts'
import { http } from '../rest/http.ts'
import { captureLogs } from '../helpers/logs.ts'
import { waitFor } from '../helpers/wait.ts'

const config = loadConfig({
  env: {
    CORE_PEER_LIMITS_CONNECTIONS: '40',
    CORE_PEER_LIMITS_CONNECTIONSPERADDRESS: '8',
    CORE_PEER_LIMITS_IDLETIMEOUT: '1500ms',
    CORE_PEER_LIMITS_HANDSHAKETIMEOUT: '800ms'
  }
})
const limits = limitsFromConfig(config)
const ATTACKER = '127.0.0.2'
/** Another attacker: its sockets do not wait for the server to release the first one's. */
const DRIPPER = '127.0.0.3'

let peer: FakePeer
let rest: RestServer
let grpc: GrpcServer
const sockets: Socket[] = []
const logs = captureLogs()

beforeAll(async () => {
  peer = await fakePeer()
  rest = await startRest({ peer, config, address: '127.0.0.1:0' })
  grpc = await startGrpcServer({ address: '127.0.0.1:0', key: 'peer.listenAddress', limits }, server => { addOpenchainService(server, peer) })
})
afterAll(async () => {
  for (const s of sockets) s.destroy()
  logs.restore()
  await rest?.close()
  await grpc?.close(100)
  await peer?.close()
})

interface Held { socket: Socket, closedAfter: Promise<number> }

/** Opens a socket from `from` and reports when the server closes it (ms after connect). */
async function hold (port: number, from: string, onConnect: (s: Socket) => void = () => {}): Promise<Held> {
  const socket = connect({ port, host: '127.0.0.1', localAddress: from })
  sockets.push(socket)
  socket.on('error', () => {})
  socket.on('data', () => {})
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  const t0 = Date.now()
  onConnect(socket)
  return { socket, closedAfter: new Promise(resolve => socket.once('close', () => { resolve(Date.now() - t0) })) }
}

function openchain (port: number): Client {
  const Ctor = clientConstructor(Openchain) as unknown as ReturnType<typeof makeClientConstructor>
  return new Ctor(`127.0.0.1:${port}`, credentials.createInsecure())
}

async function blockCount (client: Client): Promise<unknown> {
  return await new Promise((resolve, reject) => {
    (client as unknown as Record<string, (req: unknown, cb: (err: Error | null, res: unknown) => void) => void>)
      .getBlockCount(create(EmptySchema), (err, res) => { if (err !== null) reject(err); else resolve(res) })
  })
}

describe.each([['REST', () => rest.port], ['gRPC', () => grpc.port]])('%s', (name, port) => {
  it('serves an honest client while an attacker holds its per-address cap, and refuses the attacker', async () => {
    const held = await Promise.all(Array.from({ length: limits.maxPerAddress }, async () => await hold(port(), ATTACKER)))
    const extra = await hold(port(), ATTACKER)
    expect(await extra.closedAfter).toBeLessThan(200)
    if (name === 'REST') {
      expect((await http(rest.url, 'GET', '/chain')).status).toBe(200)
    } else {
      const c = openchain(port())
      await expect(blockCount(c)).resolves.toBeDefined()
      c.close()
    }
    expect(logs.lines.filter(l => l.name === 'limits' && l.msg.startsWith(name) && l.msg.includes(`refusing connections from ${ATTACKER}`) && l.msg.includes('peer.limits.connectionsPerAddress'))).toHaveLength(1)
    // Silent sockets are closed: REST after idleTimeout, gRPC once the unanswered ping times out.
    const after = await Promise.all(held.map(h => h.closedAfter))
    for (const ms of after) expect(ms).toBeLessThan(limits.idleTimeoutMs + limits.handshakeTimeoutMs * 2 + 1500)
  })

  it('closes a client that drips its handshake a byte at a time', async () => {
    const drip = name === 'REST' ? 'GET /chain HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(200) : 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
    let timer: NodeJS.Timeout | undefined
    const h = await hold(port(), DRIPPER, s => {
      let i = 0
      timer = setInterval(() => { if (!s.destroyed && i < drip.length) s.write(drip[i++]) }, 100)
    })
    const ms = await h.closedAfter
    clearInterval(timer)
    expect(ms).toBeGreaterThanOrEqual(limits.handshakeTimeoutMs - 50)
    expect(ms).toBeLessThan(limits.handshakeTimeoutMs * 3 + 1000)
  })
})

describe('total cap', () => {
  it('refuses past peer.limits.connections from many addresses and says so once per address', async () => {
    const held = await Promise.all(Array.from({ length: limits.maxConnections }, async (_, i) => await hold(rest.port, `127.0.1.${Math.floor(i / limits.maxPerAddress) + 1}`)))
    const over = await hold(rest.port, '127.0.2.1')
    expect(await over.closedAfter).toBeLessThan(200)
    expect(logs.lines.some(l => l.msg.includes('refusing connections from 127.0.2.1') && l.msg.includes('peer.limits.connections)'))).toBe(true)
    for (const h of held) h.socket.destroy()
    await Promise.all(held.map(h => h.closedAfter))
    await new Promise(resolve => setTimeout(resolve, 50))
    expect((await http(rest.url, 'GET', '/chain')).status).toBe(200)
  })
})

describe('libp2p', () => {
  it('caps connections per address, closes idle ones and unfinished upgrades', async () => {
    const server = await createNodeLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'], limits: { maxConnections: 10, maxPerAddress: 2, idleTimeoutMs: 600, handshakeTimeoutMs: 500 } })
    const clients = await Promise.all([0, 1, 2].map(async () => await createNodeLibp2p({ listen: [] })))
    try {
      const target = server.getMultiaddrs()[0]
      await clients[0].dial(target)
      await clients[1].dial(target)
      await expect(clients[2].dial(target)).rejects.toThrow()
      expect(server.getConnections()).toHaveLength(2)
      expect(logs.lines.some(l => l.msg.startsWith('libp2p: refusing connections from 127.0.0.1') && l.msg.includes('peer.limits.connectionsPerAddress'))).toBe(true)
      // Nothing flows on them: both are closed after idleTimeout, and the third client gets in.
      await waitFor('the idle connections to close', () => server.getConnections().length === 0, { timeoutMs: 5000, everyMs: 50 })
      await clients[2].dial(target)
      // A TCP client that never starts noise is dropped at handshakeTimeout.
      const port = Number(target.toString().split('/tcp/')[1].split('/')[0])
      const silent = await hold(port, ATTACKER)
      expect(await silent.closedAfter).toBeLessThan(2000)
    } finally {
      await Promise.all(clients.map(async c => { await c.stop() }))
      await server.stop()
    }
  })
})
