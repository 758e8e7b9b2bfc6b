// State transfer fetches the chain with several block requests in flight, checks and keeps the
// answers in order, stores the verified blocks in batches while it fetches, and refuses a peer
// whose block breaks the chain mid-window. Virtual time: every latency and timeout is a timer of
// the injected scheduler. And the answering side groups blocks in its SYNC_BLOCKS.
import { create, fromBinary } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { toHex } from '../../src/crypto/bytes.ts'
import { encodeUint64 } from '../../src/ledger/keys.ts'
import { Ledger } from '../../src/ledger/ledger.ts'
import { BlockSchema, Message_Type, SyncBlockRangeSchema, SyncBlocksSchema, SyncStateSnapshotRequestSchema, SyncStateSnapshotSchema, TransactionSchema, type Block, type Message, type SyncBlocks, type SyncStateSnapshot } from '../../src/protos/fabric_pb.ts'
import type { Channel } from '../../src/peer/channel.ts'
import type { PeerHandler } from '../../src/peer/handler.ts'
import { defaultStateTransferConfig, StateTransfer, type StateTransferConfig } from '../../src/peer/state-transfer.ts'
import { SyncRequest, type OpenRequest } from '../../src/peer/sync-request.ts'
import { sendBlocks, sendStateSnapshot } from '../../src/peer/sync-responder.ts'
import { memoryStore, type KVStore } from '../../src/storage/index.ts'
import { VirtualScheduler } from '../sim/scheduler.ts'
import { commitBlocks, ledgerOptions, newLedger } from '../integration/peer-helpers.ts'

const LATENCY = 5

/** The requesting side of a chat with a peer holding `source`, whose answers arrive LATENCY ms after each request. */
class Remote {
  /** Each block request, with how many blocks had arrived (from any request) when it went out. */
  readonly asked: Array<{ start: number, end: number, arrivedBefore: number }> = []
  arrived = 0
  open = 0
  maxOpen = 0
  snapshotAsked = false
  private readonly blocks: SyncRequest<SyncBlocks>
  private readonly snapshot: SyncRequest<SyncStateSnapshot>

  constructor (
    readonly name: string,
    private readonly source: Ledger,
    private readonly scheduler: VirtualScheduler,
    private readonly edit: (sb: SyncBlocks) => void = () => {},
    private readonly stateFrom: Ledger = source
  ) {
    this.blocks = new SyncRequest(10, scheduler)
    this.snapshot = new SyncRequest(50, scheduler)
  }

  async openBlockRequest (start: bigint, end: bigint): Promise<OpenRequest<SyncBlocks>> {
    const r = this.blocks.add()
    this.asked.push({ start: Number(start), end: Number(end), arrivedBefore: this.arrived })
    this.maxOpen = Math.max(this.maxOpen, ++this.open)
    let closed = false
    this.serveBlocks(r.correlationId, start, end)
    return { ...r, close: () => { if (!closed) this.open--; closed = true; r.close() } }
  }

  async requestBlocks (start: bigint, end: bigint): Promise<Channel<SyncBlocks>> {
    const ch = this.blocks.reset()
    this.serveBlocks(this.blocks.correlationId, start, end)
    return ch
  }

  async requestStateSnapshot (): Promise<Channel<SyncStateSnapshot>> {
    this.snapshotAsked = true
    const ch = this.snapshot.reset()
    const request = create(SyncStateSnapshotRequestSchema, { correlationId: this.snapshot.correlationId })
    this.scheduler.schedule(LATENCY, () => { void sendStateSnapshot(this.answers(), this.sourceView(), request) })
    return ch
  }

  private serveBlocks (correlationId: bigint, start: bigint, end: bigint): void {
    this.scheduler.schedule(LATENCY, () => { void sendBlocks(this.answers(), this.sourceView(), create(SyncBlockRangeSchema, { correlationId, start, end })) })
  }

  private sourceView (): Parameters<typeof sendBlocks>[1] {
    return {
      getBlockByNumber: async n => await this.source.getBlockByNumber(n),
      getStateDelta: async n => await this.source.getStateDelta(n),
      getStateSnapshot: async () => await this.stateFrom.stateSnapshot()
    }
  }

  /** Where the remote's answers land: the channel of the request they name, as PeerHandler routes them. */
  private answers (): Parameters<typeof sendBlocks>[0] {
    return {
      name: this.name,
      sendMessage: async (m: Message) => {
        if (m.type === Message_Type.SYNC_BLOCKS) {
          const sb = fromBinary(SyncBlocksSchema, m.payload)
          this.edit(sb)
          this.arrived += sb.blocks.length
          this.blocks.channelOf(sb.range!.correlationId)?.tryPush(sb)
        } else if (m.type === Message_Type.SYNC_STATE_SNAPSHOT) {
          const chunk = fromBinary(SyncStateSnapshotSchema, m.payload)
          if (this.snapshot.matches(chunk.request!.correlationId)) await this.snapshot.channel.push(chunk, 60_000)
        }
      }
    }
  }
}

interface Setup {
  transfer: StateTransfer
  ledger: Ledger
  writes: () => number
  dropped: string[]
}

async function setup (remotes: Remote[], config: Partial<StateTransferConfig>): Promise<Setup> {
  const store = await memoryStore()
  let writes = 0
  const counted: KVStore = { ...store, location: store.location, get: k => store.get(k), getMany: ks => store.getMany(ks), readRanges: rs => store.readRanges(rs), entries: r => store.entries(r), close: () => store.close(), write: async ops => { writes++; await store.write(ops) } }
  const ledger = await Ledger.open(counted, ledgerOptions)
  ledger.beginTxBatch(0)
  await ledger.commitTxBatch(0, [], undefined)
  const dropped: string[] = []
  const byName = new Map(remotes.map(r => [r.name, r as unknown as PeerHandler]))
  const transfer = new StateTransfer({
    ledger,
    random: () => 0,
    handlerFor: id => byName.get(id),
    peerIDs: () => [...byName.keys()],
    dropPeer: id => { dropped.push(id); byName.delete(id) }
  }, { ...defaultStateTransferConfig, ...config })
  return { transfer, ledger, writes: () => writes, dropped }
}

async function run<T> (scheduler: VirtualScheduler, p: Promise<T>): Promise<T> {
  let done = false
  void p.finally(() => { done = true })
  await scheduler.runFor(120_000, () => done)
  expect(done).toBe(true)
  return await p
}

async function chainOf (blocks: number): Promise<Ledger> {
  const l = await newLedger()
  await commitBlocks(l, blocks)
  return l
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('state transfer keeps a window of block requests in flight', () => {
  it('asks for several ranges before any answer, never more than the window, and commits the chain in order', async () => {
    const scheduler = new VirtualScheduler()
    const source = await chainOf(300)
    const vp0 = new Remote('vp0', source, scheduler)
    const s = await setup([vp0], { requestsInFlight: 4, blocksPerWrite: 50 })
    const committed: number[] = []
    s.ledger.onBlock(b => committed.push(b.number))
    const head = await source.getBlockchainInfo()
    const r = await run(scheduler, s.transfer.syncToTarget(300, head.currentBlockHash))
    expect(r).toEqual({ ok: true, blockNumber: 300 })

    // 300 blocks in 30 requests of 10, top down; the first four went out before any block came back.
    expect(vp0.asked.map(a => [a.start, a.end])).toEqual(range(0, 29).map(i => [300 - 10 * i, 291 - 10 * i]))
    expect(vp0.asked.slice(0, 4).map(a => a.arrivedBefore)).toEqual([0, 0, 0, 0])
    expect(vp0.asked[4].arrivedBefore).toBeGreaterThanOrEqual(10)
    expect(vp0.maxOpen).toBe(4)
    expect(vp0.open).toBe(0)

    // Stored while fetching in six writes of 50 blocks, then one write with the snapshot's state; listeners hear 1..300 in order.
    expect(vp0.snapshotAsked).toBe(true)
    expect(s.writes()).toBe(1 + 6 + 1)
    expect(committed).toEqual(range(1, 300))
    expect(s.ledger.height).toBe(301)
    expect(s.ledger.stateBlockNumber).toBe(300)
    expect(toHex((await s.ledger.getBlockchainInfo()).currentBlockHash)).toBe(toHex(head.currentBlockHash))
    expect(toHex((await s.ledger.getTempStateHash())!)).toBe(toHex((await source.getTempStateHash())!))
    expect(await s.ledger.verifyChain(300, 0)).toBe(0)
  })

  it('refuses a peer that sends a bad block mid-window and completes from another, keeping what was verified', async () => {
    const scheduler = new VirtualScheduler()
    const source = await chainOf(300)
    const liar = new Remote('vp0', await chainOf(300), scheduler, sb => {
      const forged = sb.blocks[Number(sb.range!.start) - 275]
      if (forged !== undefined) forged.transactions[0].txid = 'forged'
    })
    const honest = new Remote('vp1', source, scheduler)
    const s = await setup([liar, honest], { requestsInFlight: 8, blocksPerWrite: 20 })
    const head = await source.getBlockchainInfo()
    const r = await run(scheduler, s.transfer.syncToTarget(300, head.currentBlockHash, ['vp0', 'vp1']))
    expect(r).toEqual({ ok: true, blockNumber: 300 })
    expect(s.dropped).toEqual(['vp0'])
    // The liar's window (eight requests, moved on by the two ranges checked before block 275) is
    // abandoned at block 275; vp1 is asked from there on.
    expect(liar.asked.map(a => a.start)).toEqual(range(0, 9).map(i => 300 - 10 * i))
    expect(liar.open).toBe(0)
    expect(honest.asked[0]).toMatchObject({ start: 275, end: 266 })
    expect(honest.asked.at(-1)).toMatchObject({ start: 5, end: 1 })
    expect(liar.snapshotAsked).toBe(false)
    expect(toHex((await s.ledger.getBlockchainInfo()).currentBlockHash)).toBe(toHex(head.currentBlockHash))
    expect(toHex((await s.ledger.getTempStateHash())!)).toBe(toHex((await source.getTempStateHash())!))
    expect((await s.ledger.getBlockByNumber(275))!.transactions[0].txid).toBe((await source.getBlockByNumber(275))!.transactions[0].txid)
    expect(await s.ledger.verifyChain(300, 0)).toBe(0)
  })

  it('removes the blocks it stored while fetching when the transfer fails after all', async () => {
    const scheduler = new VirtualScheduler()
    const source = await chainOf(300)
    const other = await newLedger()
    await commitBlocks(other, 300, { tag: 'other' })
    // The right chain with a state that is not the one its blocks name.
    const vp0 = new Remote('vp0', source, scheduler, () => {}, other)
    const s = await setup([vp0], { requestsInFlight: 4, blocksPerWrite: 50 })
    const head = await source.getBlockchainInfo()
    const r = await run(scheduler, s.transfer.syncToTarget(300, head.currentBlockHash))
    expect(r.ok).toBe(false)
    expect(s.dropped).toEqual(['vp0'])
    expect(s.writes()).toBe(1 + 6 + 1) // genesis, six staged writes, the one that removes them
    expect(s.ledger.height).toBe(1)
    for (const n of [1, 150, 300]) expect(await s.ledger.cols.blockchain.get(encodeUint64(n))).toBeUndefined()
    expect(await s.ledger.chain.blockNumberByHash(head.currentBlockHash)).toBeUndefined()
  })

  it('gives up on a peer that stops answering mid-window after the block timeout, in virtual time, and completes from another', async () => {
    const scheduler = new VirtualScheduler()
    const source = await chainOf(100)
    let served = 0
    // vp0 answers its first two requests (one message of ten blocks each), then nothing more.
    const mute = new Remote('vp0', source, scheduler, sb => { if (++served > 2) sb.range!.correlationId = 0n })
    const other = new Remote('vp1', source, scheduler)
    const s = await setup([mute, other], { requestsInFlight: 4, blockTimeout: 2000, maxDeltas: 10 })
    const head = await source.getBlockchainInfo()
    const t0 = scheduler.now()
    const r = await run(scheduler, s.transfer.syncToTarget(100, head.currentBlockHash, ['vp0', 'vp1']))
    expect(r).toEqual({ ok: true, blockNumber: 100 })
    expect(s.dropped).toEqual([])
    expect(other.asked[0]).toMatchObject({ start: 80, end: 71 })
    expect(mute.open).toBe(0)
    // One block timeout, plus a few latencies, passed on the injected clock.
    expect(scheduler.now() - t0).toBeGreaterThanOrEqual(2000)
    expect(scheduler.now() - t0).toBeLessThan(2000 + 100 * LATENCY)
    expect(toHex((await s.ledger.getBlockchainInfo()).currentBlockHash)).toBe(toHex(head.currentBlockHash))
  })
})

describe('answering SYNC_GET_BLOCKS', () => {
  it('groups consecutive blocks up to about 64 KiB a message, never splitting one', async () => {
    const big = (n: number): Block => create(BlockSchema, { transactions: [create(TransactionSchema, { txid: `t${n}`, payload: new Uint8Array(30_000) })] })
    const sent: SyncBlocks[] = []
    const requester = { name: 'x', sendMessage: async (m: Message) => { sent.push(fromBinary(SyncBlocksSchema, m.payload)) } }
    const source = { getBlockByNumber: async (n: number) => n < 5 ? big(n) : undefined, getStateDelta: async () => undefined, getStateSnapshot: async () => ({ blockNumber: 0, entries: [] }) }
    await sendBlocks(requester, source, create(SyncBlockRangeSchema, { correlationId: 3n, start: 4n, end: 0n }))
    expect(sent.map(sb => [sb.range!.start, sb.range!.end, sb.blocks.map(b => b.transactions[0].txid)])).toEqual([[4n, 3n, ['t4', 't3']], [2n, 1n, ['t2', 't1']], [0n, 0n, ['t0']]])
    sent.length = 0
    await sendBlocks(requester, source, create(SyncBlockRangeSchema, { correlationId: 4n, start: 3n, end: 9n }))
    expect(sent.map(sb => [sb.range!.start, sb.range!.end, sb.blocks.length])).toEqual([[3n, 4n, 2], [5n, 5n, 0]])
  })
})
