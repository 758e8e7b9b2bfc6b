// OwnRequests (Weft's retransmit extension): a request goes out again only after it has waited a
// whole request timeout since it was last sent. Found in a mixed network with a real Fabric 0.6.1
// primary: the timer fired every request timeout and re-sent every outstanding request, even one
// made a few milliseconds before; the Fabric primary batches every copy it receives, so those
// transactions were ordered and run twice.
import { create, toBinary } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { OwnRequests } from '../../src/consensus/pbft/own-requests.ts'
import type { Request } from '../../src/consensus/pbft/messages.ts'
import { TransactionSchema } from '../../src/protos/fabric_pb.ts'

function harness (timeoutMs = 2000): { own: OwnRequests, sent: Request[], armed: number[], clock: { t: number } } {
  const clock = { t: 1_000_000 }
  const sent: Request[] = []
  const armed: number[] = []
  const own = new OwnRequests({
    id: 1,
    track: true,
    now: () => clock.t,
    timeoutMs,
    send: req => { sent.push(req) },
    isNew: () => true,
    arm: d => { armed.push(d) },
    disarm: () => { armed.push(-1) }
  })
  return { own, sent, armed, clock }
}

const tx = (txid: string): Uint8Array => toBinary(TransactionSchema, create(TransactionSchema, { type: 2, txid }))

describe('OwnRequests retransmission', () => {
  it('re-sends only requests that waited a full timeout, and re-arms for the next one due', () => {
    const { own, sent, armed, clock } = harness()
    own.make(tx('early'))
    expect(armed).toEqual([2000])
    clock.t += 1900
    own.make(tx('late'))
    clock.t += 100 // the timer fires: 'early' is due, 'late' is 100 ms old
    own.retransmit()
    expect(sent).toHaveLength(1)
    expect(armed.at(-1)).toBe(1900) // when 'late' is due
    clock.t += 1900
    own.retransmit()
    expect(sent).toHaveLength(2)
    expect(armed.at(-1)).toBe(2100) // 'early' again, two timeouts after its retransmission
    expect(own.executed('early')).toBeDefined()
    expect(own.executed('late')).toBeDefined()
    expect(armed.at(-1)).toBe(-1)
  })

  it('backs off: each retransmission of a request waits twice as long, up to four timeouts', () => {
    const { own, sent, armed, clock } = harness()
    own.make(tx('slow'))
    const at: number[] = []
    const start = clock.t
    for (let i = 0; i < 5; i++) {
      clock.t += armed.at(-1)!
      own.retransmit()
      at.push(clock.t - start)
    }
    expect(at).toEqual([2000, 6000, 14000, 22000, 30000])
    expect(sent).toHaveLength(5)
  })

  it('requests due close together go out on one firing of the timer', () => {
    const { own, sent, armed, clock } = harness()
    for (let i = 0; i < 10; i++) {
      own.make(tx(`r${i}`))
      clock.t += 10
    }
    clock.t += armed[0] - 100
    own.retransmit()
    expect(sent).toHaveLength(1)
    expect(armed.at(-1)).toBe(250)
    clock.t += 250
    own.retransmit()
    expect(sent).toHaveLength(10)
  })

  it('after a state transfer everything unexecuted goes out at once', () => {
    const { own, sent, clock } = harness()
    own.make(tx('a'))
    own.make(tx('b'))
    clock.t += 10
    own.retransmit(true)
    expect(sent).toHaveLength(2)
  })
})
