// Peer.ProcessTransaction over libp2p. A stream of /weft/process-tx-stream/0.6.1 carries
// Transaction → Response exchanges one at a time, in order, until the client closes its side:
// opening a stream and negotiating its protocol cost more than the exchange itself, so a client
// keeps idle streams to reuse. /weft/process-tx/0.6.1, Weft's first protocol, carries one
// exchange: its servers close their side after the answer, but that close may arrive after the
// answer has been read, so a stream could not tell a client it will take another transaction. A
// client asks for the new protocol first and falls back to the old one (a stream per
// transaction); a server serves both the same way.
import { create, fromBinary } from '@bufbuild/protobuf'
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { utf8 } from '../crypto/bytes.ts'
import { ResponseSchema, Response_StatusCode, TransactionSchema, type Response, type Transaction } from '../protos/fabric_pb.ts'
import { errorMessage } from '../util/errors.ts'
import { createLogger } from '../util/logger.ts'
import { TimeoutError, type Scheduler } from '../util/scheduler.ts'
import type { TransportServer } from './chat-server.ts'
import { StreamClosedError } from './errors.ts'
import { decodeProto, encodeProtoFrame } from './frame.ts'
import { Libp2pFramedStream, type Libp2pChatStreamOptions } from './libp2p-stream.ts'

export const PROCESS_TX_PROTOCOL = '/weft/process-tx/0.6.1'
export const PROCESS_TX_STREAM_PROTOCOL = '/weft/process-tx-stream/0.6.1'
export const PROCESS_TX_STREAM_LIMITS = { maxInboundStreams: 32, maxOutboundStreams: 32 }

/** How long a server waits for the next transaction on a stream before closing it. */
export const PROCESS_TX_IDLE_TIMEOUT = 60_000
/** A client reuses a stream idle for less than this: well inside the server's idle timeout, so the two do not cross. */
const REUSE_WITHIN_MS = PROCESS_TX_IDLE_TIMEOUT / 3
/**
 * Streams opened at once to one peer. yamux lets a peer open only 10 streams the other side has
 * not yet acknowledged and then tears the whole connection down (MaxEarlyStreamsError), which 16
 * transactions sent at once on a fresh connection used to do.
 */
const MAX_OPENING = 4
/** Streams open to one peer at most (the server takes as many); more transactions wait for one. */
const MAX_STREAMS = PROCESS_TX_STREAM_LIMITS.maxInboundStreams

const log = createLogger('libp2p-process-tx')

export interface ProcessTxInit {
  streams: Libp2pChatStreamOptions
  /** How long one exchange may take, from taking a stream to the answer (ms). */
  timeout: number
  scheduler: Scheduler
}

interface Pooled {
  readonly key: string
  readonly stream: Stream
  readonly framed: Libp2pFramedStream<typeof ResponseSchema>
  /** The server takes more than one transaction on it. */
  readonly reusable: boolean
  /** Since when it waits in the pool (scheduler time); undefined while an exchange uses it. */
  idleSince?: number
  /** Ends the exchange using it, if any. */
  fail?: (err: Error) => void
}

/** The client side: streams per remote peer, one exchange at a time on each, idle ones reused. */
export class ProcessTxClient {
  private readonly idle = new Map<string, Pooled[]>()
  private readonly streams = new Set<Pooled>()
  private readonly opening = new Map<string, number>()
  /** Streams open per remote peer, busy or idle. */
  private readonly open = new Map<string, number>()
  /** Calls waiting for a stream to `key`: woken when one is opened, released or closed. */
  private readonly waiting = new Map<string, Set<() => void>>()

  constructor (private readonly node: Libp2p, private readonly init: ProcessTxInit & { maxIdleStreams: number }) {}

  /**
   * Sends `tx` and resolves with the answer. A transaction is written at most once: only a reused
   * stream found closed before the write is passed over for another; any failure after the write
   * is the caller's error.
   */
  async call (ma: Multiaddr, tx: Transaction, signal?: AbortSignal): Promise<Response> {
    signal?.throwIfAborted()
    // The last /p2p/ is the peer itself (before it, a relay's).
    const key = ma.getComponents().findLast(c => c.name === 'p2p')?.value ?? ma.toString()
    const frame = encodeProtoFrame(TransactionSchema, tx, this.init.streams.maxMessageSize, key)
    let failure: Error | undefined
    let dialing: AbortController | undefined
    let using: Pooled | undefined
    let wake: (() => void) | undefined
    const fail = (err: Error): void => {
      failure ??= err
      dialing?.abort(err)
      wake?.()
      if (using !== undefined) this.discard(using, err)
    }
    const timer = this.init.scheduler.schedule(this.init.timeout, () => {
      fail(new TimeoutError(`ProcessTransaction to ${key}: no answer within ${this.init.timeout} ms`))
    })
    const onAbort = (): void => { fail(signal!.reason instanceof Error ? signal!.reason : new Error(String(signal!.reason))) }
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      while (true) {
        if (failure !== undefined) throw failure
        using = this.takeIdle(key)
        const reused = using !== undefined
        if (using === undefined) {
          const opening = this.opening.get(key) ?? 0
          if (opening >= MAX_OPENING || opening + (this.open.get(key) ?? 0) >= MAX_STREAMS) {
            await this.turn(key, w => { wake = w })
            continue
          }
          this.opening.set(key, opening + 1)
          dialing = new AbortController()
          try {
            using = await this.openStream(ma, key, dialing.signal)
          } catch (err) {
            throw failure ?? err
          } finally {
            dialing = undefined
            this.opening.set(key, this.opening.get(key)! - 1)
            this.wakeAll(key)
          }
          if (failure !== undefined) {
            this.discard(using, failure)
            throw failure
          }
        }
        if (!usable(using)) {
          // Closed by the remote before anything was written: safe to try another stream.
          this.discard(using)
          if (reused) continue
          throw new StreamClosedError(`ProcessTransaction to ${key}: the stream closed as it opened`)
        }
        using.fail = fail
        return await this.exchange(using, frame, key, () => failure)
      }
    } finally {
      timer.cancel()
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Closes every stream; exchanges still running fail. */
  close (): void {
    for (const p of [...this.streams]) {
      if (p.fail !== undefined) p.fail(new StreamClosedError(`ProcessTransaction to ${p.key}: the libp2p transport stopped`))
      else this.discard(p)
    }
  }

  /** Resolves when a stream to `key` is opened or released (or `setWake`'s function is called). */
  private async turn (key: string, setWake: (wake: () => void) => void): Promise<void> {
    const waiters = this.waiting.get(key) ?? new Set()
    this.waiting.set(key, waiters)
    await new Promise<void>(resolve => {
      const wake = (): void => {
        waiters.delete(wake)
        if (waiters.size === 0 && this.waiting.get(key) === waiters) this.waiting.delete(key)
        resolve()
      }
      waiters.add(wake)
      setWake(wake)
    })
  }

  private wakeAll (key: string): void {
    const waiters = this.waiting.get(key)
    if (waiters === undefined) return
    this.waiting.delete(key)
    for (const wake of waiters) wake()
  }

  private async exchange (p: Pooled, frame: Uint8Array, key: string, failure: () => Error | undefined): Promise<Response> {
    try {
      await p.framed.sendFrame(frame)
      const body = await p.framed.recvFrame()
      const failed = failure()
      if (failed !== undefined) throw failed
      if (body === undefined) throw new StreamClosedError(`ProcessTransaction to ${key}: the stream ended before the answer`)
      const response = decodeProto(ResponseSchema, body, key)
      p.fail = undefined
      this.release(p)
      return response
    } catch (err) {
      const failed = failure() ?? err as Error
      this.discard(p, failed)
      throw failed instanceof TimeoutError || failed instanceof StreamClosedError ? failed : new Error(`ProcessTransaction to ${key} failed: ${errorMessage(failed)}`)
    }
  }

  private async openStream (ma: Multiaddr, key: string, signal: AbortSignal): Promise<Pooled> {
    const connection = await this.node.dial(ma, { signal })
    let stream: Stream
    try {
      stream = await connection.newStream([PROCESS_TX_STREAM_PROTOCOL, PROCESS_TX_PROTOCOL], { runOnLimitedConnection: true, signal, ...PROCESS_TX_STREAM_LIMITS })
    } catch (err) {
      // A connection whose muxer the remote shut (a GoAway) can stay listed as open, and dial()
      // would hand it out for every later call: end it, so the next call dials afresh.
      if ((err as Error).name === 'ConnectionClosedError') connection.abort(err as Error)
      throw err
    }
    const p: Pooled = { key, stream, framed: new Libp2pFramedStream(ResponseSchema, stream, connection, this.init.streams), reusable: stream.protocol === PROCESS_TX_STREAM_PROTOCOL }
    this.streams.add(p)
    this.open.set(key, (this.open.get(key) ?? 0) + 1)
    // An idle stream the remote ends is dropped at once, not when next taken.
    const evict = (): void => { if (p.idleSince !== undefined) this.discard(p) }
    stream.addEventListener('remoteCloseWrite', evict)
    stream.addEventListener('close', evict)
    return p
  }

  /** The most recently used idle stream to `key` that is still open and not idle too long. */
  private takeIdle (key: string): Pooled | undefined {
    const list = this.idle.get(key)
    const now = this.init.scheduler.now()
    while (list !== undefined && list.length > 0) {
      const p = list.pop()!
      const since = p.idleSince!
      p.idleSince = undefined
      if (usable(p) && now - since < REUSE_WITHIN_MS) return p
      this.discard(p)
    }
    return undefined
  }

  private release (p: Pooled): void {
    const list = this.idle.get(p.key) ?? []
    if (!p.reusable || !usable(p) || list.length >= this.init.maxIdleStreams) {
      this.discard(p)
      return
    }
    p.idleSince = this.init.scheduler.now()
    list.push(p)
    this.idle.set(p.key, list)
    this.wakeAll(p.key)
  }

  private discard (p: Pooled, err?: Error): void {
    if (!this.streams.delete(p)) return
    const open = this.open.get(p.key)! - 1
    if (open > 0) this.open.set(p.key, open)
    else this.open.delete(p.key)
    this.wakeAll(p.key)
    p.fail = undefined
    if (p.idleSince !== undefined) {
      const list = this.idle.get(p.key) ?? []
      const i = list.indexOf(p)
      if (i >= 0) list.splice(i, 1)
      if (list.length === 0) this.idle.delete(p.key)
      p.idleSince = undefined
    }
    void p.framed.close(err)
  }
}

/** Open both ways, and nothing unasked-for arrived (that would put the answers out of step). */
function usable (p: Pooled): boolean {
  return p.stream.status === 'open' && p.stream.writeStatus === 'writable' && p.stream.remoteWriteStatus === 'writable' && !p.framed.hasUnread
}

interface Served {
  framed: Libp2pFramedStream<typeof ResponseSchema>
  /** Waiting for the next transaction (nothing of it is being processed). */
  waiting: boolean
}

/** The server side: answers each transaction on a stream in order until the client closes its side. */
export class ProcessTxServer {
  private readonly serving = new Set<Served>()

  /** `server()`: where transactions go; undefined once this peer has stopped. */
  constructor (private readonly init: ProcessTxInit & { idleTimeout: number }, private readonly server: () => TransportServer | undefined) {}

  async serve (stream: Stream, connection: Connection): Promise<void> {
    const framed = new Libp2pFramedStream(ResponseSchema, stream, connection, this.init.streams)
    const s: Served = { framed, waiting: true }
    this.serving.add(s)
    try {
      while (this.server() !== undefined) {
        s.waiting = true
        const idle = this.init.scheduler.schedule(this.init.idleTimeout, () => { void framed.close() })
        const bytes = await framed.recvFrame().finally(() => { idle.cancel() })
        s.waiting = false
        if (bytes === undefined) break
        const response = await this.answer(bytes)
        const late = this.init.scheduler.schedule(this.init.timeout, () => {
          void framed.close(new TimeoutError(`ProcessTransaction from ${framed.remote}: the answer was not taken within ${this.init.timeout} ms`))
        })
        await framed.send(response).finally(() => { late.cancel() })
      }
      await framed.close()
    } catch (err) {
      log.warn(`ProcessTransaction over libp2p from ${framed.remote} failed: ${errorMessage(err)}`)
      await framed.close(err as Error)
    } finally {
      this.serving.delete(s)
    }
  }

  /** Closes the streams waiting for a transaction; those processing one close after answering it. */
  close (): void {
    for (const s of this.serving) if (s.waiting) void s.framed.close()
  }

  private async answer (bytes: Uint8Array): Promise<Response> {
    try {
      const server = this.server()
      if (server === undefined) throw new Error('this peer has stopped')
      return await server.processTransaction(fromBinary(TransactionSchema, bytes))
    } catch (err) {
      return create(ResponseSchema, { status: Response_StatusCode.FAILURE, msg: utf8(`cannot process the transaction (${bytes.byteLength} bytes): ${errorMessage(err)}`) })
    }
  }
}
