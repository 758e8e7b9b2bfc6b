// A Chromium tab runs the same peer code as Node: it says HELLO to a Node peer over
// WebSockets, catches up with its chain, follows new blocks, and keeps them across a reload.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNodeLibp2p, type NodeLibp2p } from '../../node/libp2p/create-node.ts'
import { toHex } from '../../src/crypto/bytes.ts'
import type { Ledger } from '../../src/ledger/ledger.ts'
import { PeerEndpoint_Type } from '../../src/protos/fabric_pb.ts'
import { createPeer, type Peer } from '../../src/peer/peer.ts'
import { libp2pChat, type Libp2pChat } from '../../src/transport/libp2p-chat.ts'
import { commitBlocks, ledgerOptions, newLedger, testInit } from '../integration/peer-helpers.ts'
import { waitFor } from '../helpers/wait.ts'
import { callInPage, openEntry, reloadPage, screenshot, serveEntry, startBrowser, type ServedEntry, type WeftBrowser } from './harness.ts'

interface TabStatus { height: number, stateBlock: number, head: string, stateHash: string, peers: Array<{ id: string, type: number, transport: string }> }

describe('a browser tab as a Weft peer', () => {
  let browser: WeftBrowser
  let server: ServedEntry
  let node: NodeLibp2p
  let chat: Libp2pChat
  let peer: Peer
  let ledger: Ledger
  let wsAddress: string

  beforeAll(async () => {
    ledger = await newLedger()
    await commitBlocks(ledger, 300)
    node = await createNodeLibp2p({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
    wsAddress = node.getMultiaddrs()[0].toString()
    chat = libp2pChat()({ node })
    peer = createPeer(testInit('vp0', { address: wsAddress }), { ledger, dialer: chat })
    await chat.start(peer)
    await peer.start()
    ;[browser, server] = await Promise.all([startBrowser(), serveEntry('test/browser/entries/peer-chat.ts')])
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await peer?.stop()
    await chat?.stop()
    await node?.stop()
  })

  it('completes HELLO with the Node peer over WebSockets, syncs its chain, follows new blocks, and keeps them across a reload', async () => {
    const page = await browser.newPage('tab')
    await openEntry(page, server.url)
    const started = await callInPage<{ peerId: string, height: number }>(page, 'start', wsAddress, 'weft-peer-chat', ledgerOptions)
    expect(started.height).toBe(1)

    const status = async (): Promise<TabStatus> => await callInPage<TabStatus>(page, 'status')
    await waitFor('the tab catches up', async () => (await status()).stateBlock === 300, 45_000)
    const info = await ledger.getBlockchainInfo()
    let s = await status()
    expect(s.height).toBe(301)
    expect(s.head).toBe(toHex(info.currentBlockHash))
    expect(s.stateHash).toBe(toHex((await ledger.getTempStateHash())!))
    expect(s.peers).toEqual([{ id: 'vp0', type: PeerEndpoint_Type.VALIDATOR, transport: 'libp2p/ws' }])
    const tab = peer.getPeers().peers.find(p => p.address === `/p2p/${started.peerId}`)
    expect(tab?.type).toBe(PeerEndpoint_Type.NON_VALIDATOR)

    await commitBlocks(ledger, 2, { tag: 'live' })
    await waitFor('the tab follows SYNC_BLOCK_ADDED', async () => (await status()).stateBlock === 302, 15_000)
    s = await status()
    expect(s.head).toBe(toHex((await ledger.getBlockchainInfo()).currentBlockHash))
    expect(s.stateHash).toBe(toHex((await ledger.getTempStateHash())!))
    await screenshot(page, 'peer-chat')

    await reloadPage(page)
    const again = await callInPage<{ height: number }>(page, 'start', wsAddress, 'weft-peer-chat', ledgerOptions)
    expect(again.height).toBe(303) // from IndexedDB, before any sync
    await waitFor('HELLO again', async () => (await status()).peers.length === 1, 15_000)
    await callInPage(page, 'stop')
    expect(browser.problems).toEqual([])
  })
})
