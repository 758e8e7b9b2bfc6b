import { Message_Type, type Message, type PeerEndpoint, type PeerID } from '../protos/fabric_pb.ts'
import type { MessageHandler } from '../peer/message-handler.ts'
import type { ChatStream } from '../transport/chat-stream.ts'
import { createLogger } from '../util/logger.ts'
import type { FanChannel } from './fan.ts'
import { handle, type ValidatorSet } from './validators.ts'

const log = createLogger('consensus/handler')

/**
 * Fabric's ConsensusHandler: wraps the peer handler of one Chat stream. CONSENSUS messages go
 * into this connection's bounded channel of the engine's message fan (a full channel rejects the
 * message with an error naming the sender); every other message goes to the peer handler.
 */
export class ConsensusHandler implements MessageHandler {
  constructor (
    private readonly inner: MessageHandler,
    private readonly channel: FanChannel,
    private readonly stream: ChatStream,
    private readonly validators?: ValidatorSet
  ) {}

  async handleMessage (msg: Message): Promise<void> {
    if (msg.type !== Message_Type.CONSENSUS) return this.inner.handleMessage(msg)
    const sender = this.sender()
    if (sender !== undefined) this.channel.push(msg, sender)
  }

  /**
   * Who sent it: the validator whose libp2p peer id the stream is authenticated as, else the
   * name the peer gave in its HELLO. Undefined (logged) for a message to drop.
   */
  private sender (): PeerID | undefined {
    const remote = this.stream.remote
    const known = this.validators?.nameOfPeer(remote)
    if (known !== undefined) return handle(known)
    const name = this.inner.to()?.ID?.name
    if (name === undefined || name === '') throw new Error(`CONSENSUS message from ${remote} before its HELLO, rejecting`)
    if (this.validators === undefined) return handle(name)
    if (!this.validators.has(name)) {
      log.warn(`dropping CONSENSUS message from ${name} (${remote}): not a validator of this network`)
      return undefined
    }
    if (this.validators.peerIdOf(name) !== undefined) {
      log.warn(`dropping CONSENSUS message from ${remote}: it calls itself ${name}, whose peer id is ${this.validators.peerIdOf(name)}`)
      return undefined
    }
    return handle(name)
  }

  sendMessage (msg: Message): Promise<void> { return this.inner.sendMessage(msg) }

  to (): PeerEndpoint | undefined { return this.inner.to() }

  async stop (): Promise<void> {
    this.channel.close()
    await this.inner.stop()
  }
}
