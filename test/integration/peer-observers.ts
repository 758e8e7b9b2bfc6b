// A peer watched from outside, for tests that assert what it did: the messages each chat's
// handler was given and those it refused, the dials it made and how each went, how the chats
// it served ended, and the messages a peer sent.
import { Message_Type, type Message } from '../../src/protos/fabric_pb.ts'
import { newPeerHandler } from '../../src/peer/handler.ts'
import type { HandlerFactory } from '../../src/peer/message-handler.ts'
import type { Peer } from '../../src/peer/peer.ts'
import type { ChatDialer, ChatServer } from '../../src/transport/chat-server.ts'
import type { ChatStream } from '../../src/transport/chat-stream.ts'

export interface Handled {
  type: Message_Type
  /** Why the handler refused the message (Fabric's FSM error), if it did. */
  error?: Error
}

/** Handlers from `inner` (default newPeerHandler) that note every message they are given. */
export function watchedHandlers (inner: HandlerFactory<Peer> = newPeerHandler): { factory: HandlerFactory<Peer>, handled: Handled[], refused: () => Handled[] } {
  const handled: Handled[] = []
  const factory: HandlerFactory<Peer> = (peer, stream, initiated) => {
    const h = inner(peer, stream, initiated)
    return {
      handleMessage: async msg => {
        const note: Handled = { type: msg.type }
        handled.push(note)
        try {
          await h.handleMessage(msg)
        } catch (err) {
          note.error = err as Error
          throw err
        }
      },
      sendMessage: async msg => await h.sendMessage(msg),
      to: () => h.to(),
      stop: async () => await h.stop()
    }
  }
  return { factory, handled, refused: () => handled.filter(h => h.error !== undefined) }
}

export interface Dial {
  address: string
  /** Why the dial failed; undefined while it runs and once it succeeded. */
  error?: Error
  /** The error that ended the chat's stream (a receive failure), if one did. */
  ended?: Error
}

/** `inner`, noting each dial, how it went, and what ended the streams it opened. */
export function watchedDialer (inner: ChatDialer): { dialer: ChatDialer, dials: Dial[] } {
  const dials: Dial[] = []
  const dialer: ChatDialer = {
    async dialChat (address, options) {
      const dial: Dial = { address }
      dials.push(dial)
      let stream: ChatStream
      try {
        stream = await inner.dialChat(address, options)
      } catch (err) {
        dial.error = err as Error
        throw err
      }
      return {
        remote: stream.remote,
        transport: stream.transport,
        send: async m => await stream.send(m),
        recv: async () => {
          try {
            return await stream.recv()
          } catch (err) {
            dial.ended ??= err as Error
            throw err
          }
        },
        close: async e => await stream.close(e)
      }
    },
    processTransaction: async (address, tx, options) => await inner.processTransaction(address, tx, options),
    canDial: inner.canDial === undefined ? undefined : address => inner.canDial!(address)
  }
  return { dialer, dials }
}

export interface ChatEnd { remote: string, error?: Error }

/** `inner` (a peer), noting how each chat it serves ends: cleanly, or with the error its loop ended on. */
export function watchedServer (inner: ChatServer): { server: ChatServer, ended: ChatEnd[] } {
  const ended: ChatEnd[] = []
  const server: ChatServer = {
    async handleChat (stream, initiated) {
      try {
        await inner.handleChat(stream, initiated)
        ended.push({ remote: stream.remote })
      } catch (err) {
        ended.push({ remote: stream.remote, error: err as Error })
        throw err
      }
    },
    processTransaction: async tx => await inner.processTransaction(tx)
  }
  return { server, ended }
}

/** `stream` with every message sent on it passed through `edit` (a recorder, or a liar). */
export function editedStream (stream: ChatStream, edit: (m: Message) => Message): ChatStream {
  return {
    remote: stream.remote,
    transport: stream.transport,
    send: async m => await stream.send(edit(m)),
    recv: async () => await stream.recv(),
    close: async e => await stream.close(e)
  }
}

export const typeNames = (ms: Array<{ type: Message_Type }>): string[] => ms.map(m => Message_Type[m.type] ?? String(m.type))
