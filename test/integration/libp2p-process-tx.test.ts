// Peer.ProcessTransaction over real libp2p nodes on 127.0.0.1 (WebSockets, noise, yamux), a
// client node built as a tab's is: streams carry many exchanges and are reused, and no
// transaction is ever processed twice, whatever happens to a stream.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import type { Libp2p, Stream } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { lpStream } from '@libp2p/utils'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { createNodeLibp2p } from '../../node/libp2p/create-node.ts'
import { fromUtf8, utf8 } from '../../src/crypto/bytes.ts'
import { ResponseSchema, Response_StatusCode, TransactionSchema, Transaction_Type, type Response, type Transaction } from '../../src/protos/fabric_pb.ts'
import { libp2pChat, type Libp2pChat, type Libp2pChatInit } from '../../src/transport/libp2p-chat.ts'
import { PROCESS_TX_PROTOCOL, PROCESS_TX_STREAM_PROTOCOL } from '../../src/transport/libp2p-process-tx.ts'
import { captureLogs } from '../helpers/logs.ts'
import { waitFor } from '../helpers/wait.ts'

const stops: Array<() => Promise<void>> = []
afterEach(async () => {
  while (stops.length > 0) await stops.pop()!()
})

interface Server {
  node: Libp2p
  chat: Libp2pChat
  addr: string
  /** Every transaction the server was handed, by txid, in order. */
  got: string[]
  /** Every process-tx stream opened to it. */
  inbound: Stream[]
  /** The most process-tx streams it had open at once. */
  mostOpen: number
}

/** A server answering each transaction with its txid; `handle` may answer otherwise. */
async function server (init: Libp2pChatInit = {}, handle?: (tx: Transaction, s: Server) => Promise<Response | undefined> | undefined): Promise<Server> {
  const node = await createNodeLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
  const chat = libp2pChat(init)({ node })
  const s: Server = { node, chat, addr: node.getMultiaddrs().map(m => m.toString()).find(a => a.includes('/ws'))!, got: [], inbound: [], mostOpen: 0 }
  for (const protocol of protocols) {
    node.use(protocol, (stream, connection, next) => {
      s.inbound.push(stream)
      s.mostOpen = Math.max(s.mostOpen, processTxStreams(node))
      next(stream, connection)
    })
  }
  await chat.start({
    handleChat: async () => {},
    processTransaction: async tx => {
      s.got.push(tx.txid)
      return await handle?.(tx, s) ?? create(ResponseSchema, { status: Response_StatusCode.SUCCESS, msg: utf8(tx.txid) })
    }
  })
  stops.push(async () => { await chat.stop(); await node.stop() })
  return s
}

async function client (init: Libp2pChatInit = {}): Promise<{ node: Libp2p, chat: Libp2pChat }> {
  const node = await createLibp2p({ transports: [webSockets()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
  const chat = libp2pChat(init)({ node })
  stops.push(async () => { await chat.stop(); await node.stop() })
  return { node, chat }
}

const tx = (txid: string, payload = utf8('invoke')): Transaction => create(TransactionSchema, { type: Transaction_Type.CHAINCODE_INVOKE, txid, payload })
const txids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`)

const protocols = [PROCESS_TX_STREAM_PROTOCOL, PROCESS_TX_PROTOCOL]

/** Process-tx streams open on `node`'s connections (either direction, either protocol). */
function processTxStreams (node: Libp2p): number {
  return node.getConnections().flatMap(c => c.streams).filter(s => protocols.includes(s.protocol)).length
}

async function answer (c: Libp2pChat, addr: string, txid: string): Promise<string> {
  const r = await c.processTransaction(addr, tx(txid))
  expect(r.status).toBe(Response_StatusCode.SUCCESS)
  return fromUtf8(r.msg)
}

describe('ProcessTransaction over libp2p', () => {
  it('carries many transactions, one after another and at once, over a bounded number of reused streams', async () => {
    const s = await server()
    const c = await client()
    const sequential = txids('seq', 50)
    for (const id of sequential) expect(await answer(c.chat, s.addr, id)).toBe(id)
    expect(s.inbound).toHaveLength(1)
    expect(processTxStreams(c.node)).toBe(1)

    // 16 at a time, 240 in all, over 16 streams: each answer is its own transaction's
    const concurrent = txids('par', 240)
    for (let i = 0; i < concurrent.length; i += 16) {
      const batch = concurrent.slice(i, i + 16)
      expect(await Promise.all(batch.map(async id => await answer(c.chat, s.addr, id)))).toEqual(batch)
    }
    expect(s.inbound.length).toBeLessThanOrEqual(16)
    // 24 at once: 16 idle streams are kept afterwards, the others closed
    const wide = txids('wide', 24)
    expect(await Promise.all(wide.map(async id => await answer(c.chat, s.addr, id)))).toEqual(wide)
    expect(s.mostOpen).toBeLessThanOrEqual(24)
    await waitFor('streams beyond the idle limit closed', () => processTxStreams(c.node) === 16 && processTxStreams(s.node) === 16)
    expect(s.got.sort()).toEqual([...sequential, ...concurrent, ...wide].sort())

    await c.chat.stop()
    await waitFor('pooled streams closed at stop, on both sides', () => processTxStreams(c.node) === 0 && processTxStreams(s.node) === 0)
    expect(c.node.getConnections()).toHaveLength(1)
  })

  it('16 transactions at once on a fresh connection do not get it torn down, and 64 at once wait for one of 32 streams', async () => {
    // the second batch is answered only once 32 of it are in: all streams busy at once
    let release!: () => void
    const gate = new Promise<void>(resolve => { release = resolve })
    const s = await server({}, async (t, srv) => {
      if (!t.txid.startsWith('more')) return undefined
      if (srv.got.filter(id => id.startsWith('more')).length === 32) release()
      await gate
      return create(ResponseSchema, { status: Response_StatusCode.SUCCESS, msg: utf8(t.txid) })
    })
    const c = await client()
    const ids = txids('burst', 16)
    expect(await Promise.all(ids.map(async id => await answer(c.chat, s.addr, id)))).toEqual(ids)
    const more = txids('more', 64)
    expect(await Promise.all(more.map(async id => await answer(c.chat, s.addr, id)))).toEqual(more)
    expect(s.mostOpen).toBeLessThanOrEqual(32)
    expect(s.got.sort()).toEqual([...ids, ...more].sort())
  })

  it('a stream reset mid-exchange fails only that transaction, with a clear error; the others and the next one go through', async () => {
    const logs = captureLogs()
    try {
      const boomStream: Stream[] = []
      const s = await server({}, t => {
        if (t.txid !== 'boom') return undefined
        // the stream this transaction came on: the one that received it last
        boomStream[0].abort(new Error('reset by the test'))
        return new Promise<Response>(() => {})
      })
      s.node.use(PROCESS_TX_STREAM_PROTOCOL, (stream, connection, next) => {
        s.inbound.push(stream)
        stream.addEventListener('message', evt => {
          const bytes = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray()
          if (new TextDecoder().decode(bytes).includes('boom')) boomStream[0] = stream
        })
        next(stream, connection)
      })
      const c = await client()
      expect(await answer(c.chat, s.addr, 'warm')).toBe('warm')
      const others = txids('other', 6)
      const results = await Promise.allSettled([...others.slice(0, 3), 'boom', ...others.slice(3)].map(async id => await answer(c.chat, s.addr, id)))
      const failed = results.filter(r => r.status === 'rejected')
      expect(failed).toHaveLength(1)
      expect(String((failed[0] as PromiseRejectedResult).reason)).toMatch(/ProcessTransaction to \S+ failed: .*reset/i)
      expect(results.filter(r => r.status === 'fulfilled').map(r => (r as PromiseFulfilledResult<string>).value).sort()).toEqual(others.sort())
      expect(await answer(c.chat, s.addr, 'next')).toBe('next')
      // each once: the failed one was written once and not sent again
      expect(s.got.filter(id => id === 'boom')).toHaveLength(1)
      expect(s.got.sort()).toEqual(['warm', 'boom', 'next', ...others].sort())
    } finally {
      logs.restore()
    }
  })

  it('works with a server of the one-shot protocol only: each transaction on a stream of its own, none twice', async () => {
    const node = await createNodeLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
    stops.push(async () => { await node.stop() })
    const got: string[] = []
    // the server as Weft had it before streams were reused
    await node.handle(PROCESS_TX_PROTOCOL, async stream => {
      const lp = lpStream(stream)
      const t = fromBinary(TransactionSchema, (await lp.read()).subarray())
      got.push(t.txid)
      await lp.write(toBinary(ResponseSchema, create(ResponseSchema, { status: Response_StatusCode.SUCCESS, msg: utf8(t.txid) })))
      await stream.close()
    }, { runOnLimitedConnection: true, maxInboundStreams: 32 })
    const addr = node.getMultiaddrs().map(m => m.toString()).find(a => a.includes('/ws'))!
    const c = await client()
    const sequential = txids('seq', 30)
    for (const id of sequential) expect(await answer(c.chat, addr, id)).toBe(id)
    const concurrent = txids('par', 16)
    expect(await Promise.all(concurrent.map(async id => await answer(c.chat, addr, id)))).toEqual(concurrent)
    expect(got).toHaveLength(sequential.length + concurrent.length)
    expect(new Set(got).size).toBe(got.length)
    await waitFor('no stream left open', () => processTxStreams(c.node) === 0)
  })

  it('serves a client of the one-shot protocol (send one, read the answer, close) and closes its side after it', async () => {
    const s = await server()
    const c = await client()
    const stream = await c.node.dialProtocol(s.node.getMultiaddrs().find(m => m.toString().includes('/ws'))!, PROCESS_TX_PROTOCOL)
    const lp = lpStream(stream)
    await lp.write(toBinary(TransactionSchema, tx('one-shot')))
    const r = fromBinary(ResponseSchema, (await lp.read()).subarray())
    expect(fromUtf8(r.msg)).toBe('one-shot')
    await stream.close()
    await waitFor('the stream closed on both sides', () => stream.status === 'closed' && processTxStreams(s.node) === 0)
    expect(s.got).toEqual(['one-shot'])
  })

  it('times out without an answer, refuses an oversize transaction before sending it, and fails clearly at a stopped peer', async () => {
    const logs = captureLogs()
    try {
      const s = await server({}, t => t.txid === 'slow' ? new Promise<Response>(() => {}) : undefined)
      const c = await client({ processTxTimeout: 500, maxMessageSize: 1000 })
      expect(await answer(c.chat, s.addr, 'before')).toBe('before')
      await expect(c.chat.processTransaction(s.addr, tx('slow'))).rejects.toThrow(/^ProcessTransaction to \S+: no answer within 500 ms$/)
      expect(await answer(c.chat, s.addr, 'after')).toBe('after')

      await expect(c.chat.processTransaction(s.addr, tx('big', new Uint8Array(2000)))).rejects.toThrow(/message of 20\d\d bytes to \S+ exceeds the maximum message size of 1000 bytes/)
      expect(s.got).toEqual(['before', 'slow', 'after'])

      await s.chat.stop()
      await waitFor('the idle stream closed by the stopped server', () => processTxStreams(c.node) === 0)
      await expect(c.chat.processTransaction(s.addr, tx('late'))).rejects.toThrow(/protocol/i)
      expect(s.got).toEqual(['before', 'slow', 'after'])
    } finally {
      logs.restore()
    }
  })

  it('a server refuses a transaction over its limit by resetting that stream only, and takes the next one', async () => {
    const logs = captureLogs()
    try {
      const s = await server({ maxMessageSize: 1000 })
      const c = await client()
      expect(await answer(c.chat, s.addr, 'small')).toBe('small')
      await expect(c.chat.processTransaction(s.addr, tx('big', new Uint8Array(2000)))).rejects.toThrow(/^ProcessTransaction to \S+ failed: .*reset/i)
      expect(await answer(c.chat, s.addr, 'small-again')).toBe('small-again')
      expect(s.got).toEqual(['small', 'small-again'])
    } finally {
      logs.restore()
    }
  })

  it('a server closes a stream left idle past its idle timeout, and the client opens another', async () => {
    const s = await server({ processTxIdleTimeout: 300 })
    const c = await client()
    expect(await answer(c.chat, s.addr, 'a')).toBe('a')
    await waitFor('the idle stream closed', () => processTxStreams(c.node) === 0 && processTxStreams(s.node) === 0)
    expect(await answer(c.chat, s.addr, 'b')).toBe('b')
    expect(s.inbound).toHaveLength(2)
    expect(s.got).toEqual(['a', 'b'])
  })
})
