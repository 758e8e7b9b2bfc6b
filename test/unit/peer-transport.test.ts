import { create, toBinary } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { MessageSchema, Message_Type } from '../../src/protos/fabric_pb.ts'
import { Channel } from '../../src/peer/channel.ts'
import { MessageTooLargeError, SendQueueFullError, StreamClosedError } from '../../src/transport/errors.ts'
import { decodeMessage, encodeFrame, FrameDecoder, varint } from '../../src/transport/frame.ts'
import { memoryChatPair } from '../../src/transport/memory.ts'
import { every, TimeoutError } from '../../src/util/scheduler.ts'
import { VirtualScheduler } from '../sim/scheduler.ts'

const msg = (n: number) => create(MessageSchema, { type: Message_Type.DISC_PEERS, payload: new Uint8Array(n).fill(n % 251) })

describe('length-prefixed frames', () => {
  it('reassembles frames split anywhere and several in one chunk', () => {
    const frames = [encodeFrame(msg(0), 1 << 20, 'x'), encodeFrame(msg(300), 1 << 20, 'x'), encodeFrame(msg(5), 1 << 20, 'x')]
    const all = Uint8Array.from(frames.flatMap(f => [...f]))
    const dec = new FrameDecoder(1 << 20, 'x')
    const out = []
    for (const b of all) out.push(...dec.push(Uint8Array.of(b)))
    expect(out.map(f => decodeMessage(f, 'x').payload.length)).toEqual([0, 300, 5])
    expect(new FrameDecoder(1 << 20, 'x').push(all).map(f => f.length)).toEqual([msg(0), msg(300), msg(5)].map(m => toBinary(MessageSchema, m).length))
    expect(dec.pendingBytes).toBe(0)
  })

  it('refuses an oversize frame from its prefix alone, and a prefix longer than 5 bytes', () => {
    const dec = new FrameDecoder(1000, 'peer-x')
    expect(() => dec.push(varint(1001))).toThrow(new MessageTooLargeError(1001, 1000, 'receive', 'peer-x'))
    expect(() => new FrameDecoder(1000, 'p').push(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80))).toThrow(/bad frame length prefix from p: more than 5 bytes/)
    expect(() => encodeFrame(msg(2000), 1000, 'peer-y')).toThrow(/message of 200\d bytes to peer-y exceeds the maximum message size of 1000 bytes/)
    expect(() => decodeMessage(Uint8Array.of(0xff, 0xff, 0xff), 'peer-z')).toThrow(/undecodable Message frame \(3 bytes\) from peer-z: /)
  })
})

describe('memory chat streams', () => {
  it('carry messages in order, and end cleanly or with the reason', async () => {
    const [a, b] = memoryChatPair('a', 'b')
    await a.send(msg(1))
    await a.send(msg(2))
    expect((await b.recv())?.payload.length).toBe(1)
    expect((await b.recv())?.payload.length).toBe(2)
    await a.close()
    expect(await b.recv()).toBeUndefined()
    await expect(b.send(msg(1))).rejects.toThrow(new StreamClosedError('chat stream closed by a'))
    await expect(a.send(msg(1))).rejects.toThrow(/chat stream to b is closed/)
    const [c, d] = memoryChatPair('c', 'd')
    await c.close(new Error('bye'))
    await expect(d.recv()).rejects.toThrow('chat stream aborted by c: bye')
  })

  it('make senders wait while the reader is behind, and say so when too many wait', async () => {
    const [a, b] = memoryChatPair('a', 'b', { capacity: 2, maxPendingSends: 1 })
    await a.send(msg(1))
    await a.send(msg(2))
    let third = false
    const waiting = a.send(msg(3)).then(() => { third = true })
    await Promise.resolve()
    expect(third).toBe(false)
    await expect(a.send(msg(4))).rejects.toThrow(new SendQueueFullError('send queue to b full: 1 messages already wait for the reader'))
    expect((await b.recv())?.payload.length).toBe(1)
    await waiting
    expect(third).toBe(true)
    expect((await b.recv())?.payload.length).toBe(2)
    expect((await b.recv())?.payload.length).toBe(3)
  })
})

describe('channels and timers', () => {
  it('a full channel refuses a non-blocking push; a blocking one waits, then times out', async () => {
    const scheduler = new VirtualScheduler()
    const ch = new Channel<number>(2, scheduler)
    expect(ch.tryPush(1)).toBe(true)
    expect(ch.tryPush(2)).toBe(true)
    expect(ch.tryPush(3)).toBe(false)
    const late = ch.push(3, 100)
    expect(await ch.next(10)).toBe(1) // makes room: the waiting push goes in
    expect(await late).toBe(true)
    const timedOut = ch.push(4, 100)
    scheduler.advance(100)
    expect(await timedOut).toBe(false)
    expect([await ch.next(10), await ch.next(10)]).toEqual([2, 3])
    const nothing = ch.next(50)
    scheduler.advance(50)
    await expect(nothing).rejects.toThrow(new TimeoutError('nothing received for 50 ms'))
    ch.tryPush(5)
    ch.close()
    expect(await ch.next(10)).toBe(5)
    expect(await ch.next(10)).toBeUndefined()
    expect(ch.tryPush(6)).toBe(false)
  })

  it('every() ticks on the injected timers until stopped; a period of 0 never ticks', () => {
    const scheduler = new VirtualScheduler()
    let ticks = 0
    const stop = every(scheduler, 1000, () => { ticks++ })
    scheduler.advance(3500)
    expect(ticks).toBe(3)
    stop()
    scheduler.advance(5000)
    expect(ticks).toBe(3)
    every(scheduler, 0, () => { ticks++ })
    scheduler.advance(10_000)
    expect(ticks).toBe(3)
  })
})
