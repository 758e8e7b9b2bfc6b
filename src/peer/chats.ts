import type { Message } from '../protos/fabric_pb.ts'
import type { ChatStream } from '../transport/chat-stream.ts'
import { createLogger } from '../util/logger.ts'
import type { Scheduler } from '../util/scheduler.ts'
import { receiveLoop, type Verifier } from './chat-loop.ts'
import type { PeerHandler } from './handler.ts'
import type { MessageHandler } from './message-handler.ts'

const log = createLogger('peer')

interface Chat {
  stream: ChatStream
  /** The address we dialled, for chats this peer opened. */
  address?: string
}

/** What a chat needs from the peer coordinator. */
export interface ChatHost {
  readonly scheduler: Scheduler
  /** A remote that has not said HELLO this long (ms) is cut off; 0 = never. */
  readonly helloTimeout: number
  /** With security on: checks each received message before its handler sees it. */
  readonly verify?: Verifier
  /** The handler for a new chat's stream (Fabric's handler factory). */
  newHandler (stream: ChatStream, initiatedStream: boolean): MessageHandler
  /** HELLO for a chat this peer opened over `transport`. */
  newHelloMessage (transport: string): Promise<Message>
  stopping (): boolean
}

/** The open Chat streams and their receive loops (Fabric's handleChat, one per stream). */
export class Chats {
  private readonly open = new Set<Chat>()
  private readonly running = new Set<Promise<void>>()

  constructor (private readonly host: ChatHost) {}

  /** Runs the chat until EOF (resolves) or a receive error (rejects); `address` is the one dialled for a chat this peer opened. */
  run (stream: ChatStream, initiatedStream: boolean, address?: string): Promise<void> {
    const run = this.loop({ stream, address }, initiatedStream)
    this.running.add(run)
    void run.catch(() => {}).finally(() => this.running.delete(run))
    return run
  }

  private async loop (chat: Chat, initiatedStream: boolean): Promise<void> {
    const { stream } = chat
    if (this.host.stopping()) {
      await stream.close()
      return
    }
    let handler: MessageHandler
    try {
      handler = this.host.newHandler(stream, initiatedStream)
    } catch (err) {
      await stream.close(err as Error)
      throw new Error(`Error creating handler during handleChat initiation: ${(err as Error).message}`)
    }
    this.open.add(chat)
    let failure: Error | undefined
    // A remote that never says HELLO would hold its connection (and a place under the caps) forever.
    const ms = this.host.helloTimeout
    const helloDeadline = ms > 0
      ? this.host.scheduler.schedule(ms, () => { if (handler.to() === undefined) void stream.close(new Error(`no DISC_HELLO within ${ms} ms`)) })
      : undefined
    try {
      if (initiatedStream) {
        try {
          await handler.sendMessage(await this.host.newHelloMessage(stream.transport))
        } catch (err) {
          throw new Error(`Error creating new Peer Handler, error returned sending DISC_HELLO: ${(err as Error).message}`)
        }
      }
      await receiveLoop(stream, handler, this.host.verify)
    } catch (err) {
      failure = err as Error
      log.error(`Chat with ${handler.to()?.ID?.name ?? stream.remote} (${stream.transport}) ended: ${failure.message}`)
      throw failure
    } finally {
      helloDeadline?.cancel()
      this.open.delete(chat)
      await handler.stop()
      await stream.close(failure)
    }
  }

  /** Whether a chat this peer opened to `address` is open. */
  dialled (address: string): boolean {
    for (const c of this.open) if (c.address === address) return true
    return false
  }

  /** The address this peer dialled for `h`'s chat; undefined for a chat the remote opened. */
  dialledAddress (h: PeerHandler): string | undefined {
    for (const c of this.open) if (c.stream === h.stream && c.address !== undefined) return c.address
    return undefined
  }

  /** Ends every chat and waits for their loops to finish. */
  async close (): Promise<void> {
    await Promise.allSettled([...this.open].map(async c => await c.stream.close()))
    await Promise.allSettled([...this.running])
  }
}
