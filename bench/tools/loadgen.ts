// The load generator: a process of its own that speaks only the peer's public interfaces: Fabric
// 0.6.1's REST JSON-RPC with keep-alive, or with --grpc HOST:PORT Devops.Invoke/Query over one gRPC
// channel, so the same run measures a Weft peer or a real Fabric peer; or with --libp2p MULTIADDR
// Weft's Peer.ProcessTransaction over libp2p (/weft/process-tx/0.6.1 on one WebSockets
// connection), as a browser tab hands its transactions to a Node peer. It sends example02 invokes
// a→b 1 (or queries of a), closed loop with N keep-alive clients or open loop at a fixed rate, and
// counts only what was committed: the blocks are read back, each of its transactions matched
// to when it was sent, and the balance of `a` checked against the count.
//   node --import tsx bench/tools/loadgen.ts --target http://127.0.0.1:7050 --chaincode mycc --clients 16
//   --chain URL: read the blocks (and the balance) from this peer instead of --target, so that
//     several load generators, each sending to a different replica, count their own committed
//     transactions on the chain of one replica.
//   --no-balance: others load the same accounts at the same time; the caller checks the balance.
// Prints one JSON object (LoadResult) on stdout.
import '../../node/polyfill.ts'
import { randomUUID } from 'node:crypto'
import { Agent, request } from 'node:http'
import { parseArgs } from 'node:util'
import { create } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import { credentials } from '@grpc/grpc-js'
import { noise } from '@libp2p/noise'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { newExecuteTransaction } from '../../src/chaincode/transactions.ts'
import { ChaincodeInvocationSpecSchema, ChaincodeSpec_Type } from '../../src/protos/chaincode_pb.ts'
import { Devops } from '../../src/protos/devops_pb.ts'
import { Response_StatusCode, Transaction_Type, type Response } from '../../src/protos/fabric_pb.ts'
import { libp2pChat } from '../../src/transport/libp2p-chat.ts'
import { unaryCall } from '../../node/grpc/client.ts'
import { clientConstructor } from '../../node/grpc/service-definition.ts'

export interface LoadResult {
  target: string
  /** How requests were sent: REST JSON-RPC, Devops over gRPC or libp2p process-tx (REST still reads the blocks). */
  via: 'rest' | 'grpc' | 'libp2p'
  workload: 'invoke' | 'query'
  clients: number
  rate?: number
  /** The measured window, after the warm-up. */
  windowMs: number
  sent: number
  accepted: number
  /** Answers that were not OK, by their text (first 80 characters). */
  refused: Record<string, number>
  /** Own transactions committed with a commit time inside the window (queries: answered inside it). */
  committed: number
  tps: number
  /** Request-to-commit latency of the window's committed transactions, ms. */
  latency: { p50: number, p90: number, p99: number, max: number }
  blocks: number
  /** Own invokes found in any block after the start, and the balance of a moved by as many (unless --no-balance: not checked here). */
  balance: { committedTotal: number, moved: number, ok: boolean, checked?: false }
}

const { values: opt } = parseArgs({
  options: {
    target: { type: 'string', default: 'http://127.0.0.1:7050' },
    grpc: { type: 'string' },
    libp2p: { type: 'string' },
    chain: { type: 'string' },
    'no-balance': { type: 'boolean', default: false },
    chaincode: { type: 'string', default: 'mycc' },
    clients: { type: 'string', default: '16' },
    rate: { type: 'string' },
    duration: { type: 'string', default: '10000' },
    warmup: { type: 'string', default: '2000' },
    drain: { type: 'string', default: '15000' },
    workload: { type: 'string', default: 'invoke' }
  }
})
const target = new URL(opt.target!)
const chainPeer = new URL(opt.chain ?? opt.target!)
const checkBalance = opt['no-balance'] !== true
const clients = Number(opt.clients)
const rate = opt.rate === undefined ? undefined : Number(opt.rate)
const durationMs = Number(opt.duration)
const warmupMs = Number(opt.warmup)
const drainMs = Number(opt.drain)
const workload = opt.workload === 'query' ? 'query' : 'invoke'
const agent = new Agent({ keepAlive: true, maxSockets: Math.max(clients, 64) })

async function http (method: 'GET' | 'POST', path: string, body?: string, to = target): Promise<{ status: number, text: string }> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: to.hostname, port: to.port, method, path, agent, headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

const devops = opt.grpc === undefined ? undefined : new (clientConstructor(Devops))(opt.grpc, credentials.createInsecure())
const encoder = new TextEncoder()

async function devopsCall (method: 'invoke' | 'query', args: string[]): Promise<{ ok: boolean, message: string }> {
  const cis = create(ChaincodeInvocationSpecSchema, { chaincodeSpec: { type: ChaincodeSpec_Type.GOLANG, chaincodeID: { name: opt.chaincode }, ctorMsg: { args: args.map(a => encoder.encode(a)) } } })
  try {
    const r = await unaryCall<Response>(devops!, method, cis)
    return { ok: r.status === Response_StatusCode.SUCCESS, message: new TextDecoder().decode(r.msg) }
  } catch (err) {
    return { ok: false, message: (err as Error).message }
  }
}

/** A client-only libp2p node (WebSockets, noise, yamux, as a tab dials) whose transactions go to the peer at --libp2p. */
const p2pNode = opt.libp2p === undefined ? undefined : await createLibp2p({ transports: [webSockets()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
const p2p = p2pNode === undefined ? undefined : libp2pChat()({ node: p2pNode })

/** Peer.ProcessTransaction over libp2p: the peer answers an invoke with its txid, a query with the value. */
async function processTxCall (method: 'invoke' | 'query', args: string[]): Promise<{ ok: boolean, message: string }> {
  const cis = create(ChaincodeInvocationSpecSchema, { chaincodeSpec: { type: ChaincodeSpec_Type.GOLANG, chaincodeID: { name: opt.chaincode }, ctorMsg: { args: args.map(a => encoder.encode(a)) } } })
  const type = method === 'invoke' ? Transaction_Type.CHAINCODE_INVOKE : Transaction_Type.CHAINCODE_QUERY
  try {
    const r = await p2p!.processTransaction(opt.libp2p!, newExecuteTransaction(cis, randomUUID(), type, timestampFromMs(Date.now())))
    return { ok: r.status === Response_StatusCode.SUCCESS, message: new TextDecoder().decode(r.msg) }
  } catch (err) {
    return { ok: false, message: (err as Error).message }
  }
}

let rpcId = 0
async function rpc (method: 'invoke' | 'query', args: string[], to = target): Promise<{ ok: boolean, message: string }> {
  if (devops !== undefined && to === target) return await devopsCall(method, args)
  if (p2p !== undefined && to === target) return await processTxCall(method, args)
  const body = JSON.stringify({ jsonrpc: '2.0', method, params: { type: 1, chaincodeID: { name: opt.chaincode }, ctorMsg: { args } }, id: ++rpcId })
  try {
    const { text } = await http('POST', '/chaincode', body, to)
    const r = JSON.parse(text) as { result?: { status: string, message: string }, error?: { message: string, data?: string } }
    if (r.result?.status === 'OK') return { ok: true, message: r.result.message }
    return { ok: false, message: r.error?.data ?? r.error?.message ?? text }
  } catch (err) {
    return { ok: false, message: (err as Error).message }
  }
}

/** The balance of a; retried for up to 60 s, as a replica refuses queries while it catches up by state transfer. */
async function balanceOfA (): Promise<number> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const r = await rpc('query', ['query', 'a'], chainPeer)
    if (r.ok) return Number(r.message)
    if (Date.now() > deadline) throw new Error(`query of a failed: ${r.message}`)
    await new Promise(resolve => setTimeout(resolve, 250))
  }
}

interface ChainInfo { height: number }
interface RestBlock {
  transactions?: Array<{ txid: string }>
  nonHashData?: { localLedgerCommitTimestamp?: { seconds: number | string, nanos?: number } }
}

async function height (): Promise<number> { return (JSON.parse((await http('GET', '/chain', undefined, chainPeer)).text) as ChainInfo).height }

async function block (n: number): Promise<RestBlock> {
  const { status, text } = await http('GET', `/chain/blocks/${n}`, undefined, chainPeer)
  if (status !== 200) throw new Error(`GET /chain/blocks/${n}: ${status} ${text.slice(0, 200)}`)
  return JSON.parse(text) as RestBlock
}

const sentAt = new Map<string, number>()
const refused: Record<string, number> = {}
let sent = 0
let accepted = 0
let answeredInWindow = 0
const queryLatency: number[] = []
let sending = true

const t0 = Date.now()
const windowStart = t0 + warmupMs
const windowEnd = windowStart + durationMs

async function once (): Promise<void> {
  sent++
  const at = Date.now()
  const r = workload === 'query' ? await rpc('query', ['query', 'a']) : await rpc('invoke', ['invoke', 'a', 'b', '1'])
  const now = Date.now()
  if (!r.ok) {
    const key = r.message.slice(0, 80)
    refused[key] = (refused[key] ?? 0) + 1
    return
  }
  accepted++
  if (workload === 'invoke') sentAt.set(r.message, at)
  else if (at >= windowStart && now <= windowEnd) { answeredInWindow++; queryLatency.push(now - at) }
}

const h0 = await height()
const a0 = workload === 'invoke' && checkBalance ? await balanceOfA() : 0
const stopAt = setTimeout(() => { sending = false }, warmupMs + durationMs)
if (rate === undefined) {
  await Promise.all(Array.from({ length: clients }, async () => { while (sending) await once() }))
} else {
  // Open loop: requests leave on schedule whatever the answers' pace.
  const inflight = new Set<Promise<void>>()
  const interval = 1000 / rate
  let next = Date.now()
  while (sending) {
    const p = once().finally(() => inflight.delete(p))
    inflight.add(p)
    next += interval
    const wait = next - Date.now()
    if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
  }
  await Promise.all(inflight)
}
clearTimeout(stopAt)

const percentile = (xs: number[], p: number): number => xs.length === 0 ? NaN : xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]
const summary = (xs: number[]): LoadResult['latency'] => {
  xs.sort((a, b) => a - b)
  return { p50: percentile(xs, 0.5), p90: percentile(xs, 0.9), p99: percentile(xs, 0.99), max: xs.length === 0 ? NaN : xs[xs.length - 1] }
}

const via = devops !== undefined ? 'grpc' : p2p !== undefined ? 'libp2p' : 'rest'
let result: LoadResult
if (workload === 'query') {
  result = {
    target: opt.target!, via, workload, clients, rate, windowMs: durationMs, sent, accepted, refused,
    committed: answeredInWindow, tps: answeredInWindow / (durationMs / 1000), latency: summary(queryLatency),
    blocks: 0, balance: { committedTotal: 0, moved: 0, ok: true }
  }
} else {
  // Wait until every accepted invoke is in a block, or the drain time is over.
  const found = new Map<string, number>()
  let read = h0
  let blocks = 0
  const drainEnd = Date.now() + drainMs
  while (found.size < sentAt.size && Date.now() < drainEnd) {
    const h = await height()
    for (; read < h; read++) {
      const b = await block(read)
      blocks++
      const ts = b.nonHashData?.localLedgerCommitTimestamp
      const committedAt = ts === undefined ? NaN : Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)
      for (const tx of b.transactions ?? []) if (sentAt.has(tx.txid)) found.set(tx.txid, committedAt)
    }
    if (found.size < sentAt.size) await new Promise(resolve => setTimeout(resolve, 200))
  }
  const lat: number[] = []
  let inWindow = 0
  for (const [txid, committedAt] of found) {
    if (committedAt >= windowStart && committedAt <= windowEnd) inWindow++
    const at = sentAt.get(txid)!
    if (at >= windowStart && at <= windowEnd) lat.push(committedAt - at)
  }
  const moved = checkBalance ? a0 - await balanceOfA() : NaN
  result = {
    target: opt.target!, via, workload, clients, rate, windowMs: durationMs, sent, accepted, refused,
    committed: inWindow, tps: inWindow / (durationMs / 1000), latency: summary(lat), blocks,
    balance: checkBalance ? { committedTotal: found.size, moved, ok: moved === found.size } : { committedTotal: found.size, moved, ok: true, checked: false }
  }
}
agent.destroy()
devops?.close()
await p2pNode?.stop()
process.stdout.write(`${JSON.stringify(result)}\n`)
