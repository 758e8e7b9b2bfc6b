// A flood from one peer does not starve the others: the flooder fills only its own consensus
// channel and is refused past it (peer.validator.consensus.buffersize), while every message of an
// honest peer is delivered, each behind at most one channel's worth of the flooder's.
import { create } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { fromUtf8, utf8 } from '../../src/crypto/bytes.ts'
import { ChannelFullError, MessageFan } from '../../src/consensus/fan.ts'
import { handle } from '../../src/consensus/validators.ts'
import { MessageSchema, Message_Type } from '../../src/protos/fabric_pb.ts'
import { waitFor } from '../helpers/wait.ts'

const msg = (payload: string) => create(MessageSchema, { type: Message_Type.CONSENSUS, payload: utf8(payload) })

describe('a flooding peer', () => {
  it('is refused past its channel while an honest peer is served in bounded time', async () => {
    const capacity = 100
    const fan = new MessageFan()
    const flooder = fan.addChannel('flooder', capacity)
    const honest = fan.addChannel('honest', capacity)
    const order: string[] = []
    // A slow consumer, as a busy PBFT core is.
    fan.start(async ({ msg: m, sender }) => {
      order.push(`${sender.name}:${fromUtf8(m.payload)}`)
      await new Promise(resolve => setImmediate(resolve))
    })
    let refused = 0
    const flood = (async () => {
      for (let i = 0; i < 20_000; i++) {
        try { flooder.push(msg(String(i)), handle('vp1')) } catch (err) { expect(err).toBeInstanceOf(ChannelFullError); refused++ }
        if (i % 50 === 0) await new Promise(resolve => setImmediate(resolve))
      }
    })()
    const pushedAt: number[] = []
    for (let i = 0; i < 50; i++) {
      pushedAt.push(order.length)
      honest.push(msg(String(i)), handle('vp2'))
      await new Promise(resolve => setTimeout(resolve, 1))
    }
    await flood
    await waitFor('both channels to drain', () => flooder.length + honest.length === 0, 30_000)
    expect(refused).toBeGreaterThan(10_000)
    const honestAt = order.flatMap((e, i) => e.startsWith('vp2:') ? [i] : [])
    expect(honestAt).toHaveLength(50)
    // Each honest message waits behind at most one full channel of the flooder's (and the one being taken).
    for (let k = 0; k < honestAt.length; k++) {
      expect(order.slice(pushedAt[k], honestAt[k]).filter(e => e.startsWith('vp1:')).length).toBeLessThanOrEqual(capacity + 1)
    }
    expect(order.filter(e => e.startsWith('vp2:')).map(e => e.slice(4))).toEqual(Array.from({ length: 50 }, (_, i) => String(i)))
  })
})
