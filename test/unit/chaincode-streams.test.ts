import { create, toBinary } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { cacheFieldsOf, setCacheFields } from '../../src/chaincode/cache-fields.ts'
import { ccMessage, MsgType } from '../../src/chaincode/messages.ts'
import { portStream } from '../../src/chaincode/port-stream.ts'
import { chaincodeStreamPair } from '../../src/chaincode/stream.ts'
import { ChaincodeMessageSchema, ChaincodeSecurityContextSchema } from '../../src/protos/chaincode_pb.ts'
import { ChaincodeEventSchema } from '../../src/protos/chaincodeevent_pb.ts'
import { utf8 } from '../../src/crypto/bytes.ts'

describe('in-memory stream pair', () => {
  it('delivers in order, copies messages, and ends cleanly', async () => {
    const { peer, chaincode } = chaincodeStreamPair()
    const m = ccMessage(MsgType.GET_STATE, { txid: 't', payload: utf8('k') })
    await chaincode.send(m)
    m.txid = 'changed'
    await chaincode.send(ccMessage(MsgType.KEEPALIVE))
    expect((await peer.recv())?.txid).toBe('t')
    expect((await peer.recv())?.type).toBe(MsgType.KEEPALIVE)
    await chaincode.close()
    expect(await peer.recv()).toBeUndefined()
    await expect(peer.send(m)).rejects.toThrow(/closed/)
  })

  it('copies every field deeply: what the sender changes afterwards never reaches the receiver', async () => {
    const { peer, chaincode } = chaincodeStreamPair()
    const m = ccMessage(MsgType.COMPLETED, { txid: 't', payload: utf8('answer') })
    m.timestamp = { $typeName: 'google.protobuf.Timestamp', seconds: 7n, nanos: 9 }
    m.securityContext = create(ChaincodeSecurityContextSchema, { callerSign: utf8('sig'), payload: utf8('a'), txTimestamp: { seconds: 1n } })
    m.chaincodeEvent = create(ChaincodeEventSchema, { chaincodeID: 'cc', eventName: 'e', payload: utf8('p') })
    setCacheFields(m, { session: 3, writes: [['k', utf8('v')]] })
    const sent = toBinary(ChaincodeMessageSchema, m)
    await chaincode.send(m)
    m.payload[0] = 0
    m.timestamp.seconds = 8n
    m.securityContext.payload[0] = 0
    m.securityContext.txTimestamp!.nanos = 1
    m.chaincodeEvent.payload[0] = 0
    m.$unknown![0].data[0] = 0
    const got = (await peer.recv())!
    expect(toBinary(ChaincodeMessageSchema, got)).toEqual(sent)
    expect(cacheFieldsOf(got)).toEqual({ session: 3, writes: [['k', utf8('v')]] })
  })

  it('says so when the reader falls behind past the limit', async () => {
    const { peer, chaincode } = chaincodeStreamPair({}, 2)
    await chaincode.send(ccMessage(MsgType.KEEPALIVE))
    await chaincode.send(ccMessage(MsgType.KEEPALIVE))
    await expect(chaincode.send(ccMessage(MsgType.KEEPALIVE))).rejects.toThrow('queue full (2 unread messages)')
    await peer.recv()
    await chaincode.send(ccMessage(MsgType.KEEPALIVE))
  })

  it('hands a close error to the other side', async () => {
    const { peer, chaincode } = chaincodeStreamPair()
    const pending = peer.recv()
    await chaincode.close(new Error('went away'))
    await expect(pending).rejects.toThrow('went away')
  })
})

describe('worker channel stream', () => {
  it('carries marshaled ChaincodeMessages both ways', async () => {
    const posted: Uint8Array[] = []
    const p = portStream('worker', b => posted.push(b))
    const m = ccMessage(MsgType.PUT_STATE, { txid: 'x', payload: utf8('v') })
    await p.stream.send(m)
    expect(posted).toEqual([toBinary(ChaincodeMessageSchema, m)])
    p.deliver(posted[0])
    expect(await p.stream.recv()).toEqual(m)
  })

  it('sends what one turn sends in one packed buffer, which the other side takes in order', async () => {
    const singles: Uint8Array[] = []
    const packed: ArrayBuffer[] = []
    const flushes: Array<() => void> = []
    const a = portStream('worker', b => singles.push(b), undefined, { post: p => packed.push(p), defer: f => flushes.push(f) })
    const msgs = [
      ccMessage(MsgType.TRANSACTION, { txid: 't1', payload: utf8('a') }),
      ccMessage(MsgType.TRANSACTION, { txid: 't2', payload: new Uint8Array(300).fill(7) }),
      ccMessage(MsgType.KEEPALIVE)
    ]
    for (const m of msgs) await a.stream.send(m)
    expect(flushes).toHaveLength(1)
    flushes[0]()
    await a.stream.send(msgs[0])
    flushes[1]()
    expect(packed).toHaveLength(1)
    expect(singles).toEqual([toBinary(ChaincodeMessageSchema, msgs[0])])
    const b = portStream('peer', () => {})
    b.deliver(packed[0])
    b.deliver(singles[0])
    for (const m of [...msgs, msgs[0]]) expect(await b.stream.recv()).toEqual(m)
  })

  it('ends the stream on a packed buffer whose lengths run past its end', async () => {
    const bytes = toBinary(ChaincodeMessageSchema, ccMessage(MsgType.KEEPALIVE))
    const p = portStream('worker', () => {})
    const bad = new Uint8Array([bytes.length, 0, 0, 0, ...bytes, 9, 0, 0, 0, 1])
    p.deliver(bad.buffer)
    expect((await p.stream.recv())?.type).toBe(MsgType.KEEPALIVE)
    await expect(p.stream.recv()).rejects.toThrow('worker sent a malformed batch of ChaincodeMessages')
  })

  it('ends the stream on anything that is not a ChaincodeMessage, with the reason', async () => {
    const a = portStream('worker', () => {})
    a.deliver({ hello: 1 })
    await expect(a.stream.recv()).rejects.toThrow('worker sent something other than a marshaled ChaincodeMessage')
    const b = portStream('worker', () => {})
    b.deliver(new Uint8Array([0x08, 0xff]))
    await expect(b.stream.recv()).rejects.toThrow(/worker sent a malformed ChaincodeMessage/)
    await expect(b.stream.send(ccMessage(MsgType.KEEPALIVE))).rejects.toThrow(/closed/)
  })

  it('ends the stream when the peer does not keep up', async () => {
    const p = portStream('worker', () => {}, 1)
    const bytes = toBinary(ChaincodeMessageSchema, ccMessage(MsgType.KEEPALIVE))
    p.deliver(bytes)
    p.deliver(bytes)
    expect((await p.stream.recv())?.type).toBe(MsgType.KEEPALIVE)
    await expect(p.stream.recv()).rejects.toThrow('worker sent more than 1 messages that were not read')
  })
})
