// Runs in the tab: a non-validating Weft peer (src/peer over src/transport's libp2p Chat) with
// its ledger in IndexedDB, driven by test/browser/peer-chat.test.ts.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { toHex } from '../../../src/crypto/bytes.ts'
import { Ledger, makeGenesis } from '../../../src/ledger/ledger.ts'
import { createPeer, type Peer } from '../../../src/peer/peer.ts'
import { libp2pChat, type Libp2pChat } from '../../../src/transport/libp2p-chat.ts'
import { createBrowserLibp2p, type BrowserLibp2p } from '../../../web/libp2p/create-node.ts'
import { openIndexedDB } from '../../../web/storage.ts'
import { exposeTestApi } from '../page-api.ts'

let running: { peer: Peer, node: BrowserLibp2p, chat: Libp2pChat, ledger: Ledger } | undefined

exposeTestApi('peer-chat', {
  /** Opens the ledger in IndexedDB `db`, starts libp2p and the peer, and dials `rootNode`. */
  async start (rootNode: string, db: string, ledgerOptions: { numBuckets: number, maxGroupingAtEachLevel: number }) {
    const ledger = await Ledger.open(await openIndexedDB(db), ledgerOptions)
    await makeGenesis(ledger)
    const node = await createBrowserLibp2p({ privateKey: await generateKeyPair('Ed25519') })
    const chat = libp2pChat()({ node })
    const peer = createPeer({
      id: `tab-${node.peerId.toString().slice(-6)}`,
      address: `/p2p/${node.peerId.toString()}`,
      validator: false,
      discovery: { rootNodes: [rootNode], touchPeriod: 0 }
    }, { ledger, dialer: chat })
    await chat.start(peer)
    await peer.start()
    running = { peer, node, chat, ledger }
    return { peerId: node.peerId.toString(), height: ledger.height }
  },
  async status () {
    if (running === undefined) throw new Error('not started')
    const { peer, ledger } = running
    const info = await ledger.getBlockchainInfo()
    return {
      height: ledger.height,
      stateBlock: ledger.stateBlockNumber,
      head: toHex(info.currentBlockHash),
      stateHash: toHex((await ledger.getTempStateHash()) ?? new Uint8Array(0)),
      peers: peer.getPeers().peers.map(p => ({ id: p.ID?.name ?? '', type: p.type, transport: peer.getRemoteLedger(p.ID!.name).stream.transport }))
    }
  },
  async stop () {
    if (running === undefined) return
    await running.peer.stop()
    await running.chat.stop()
    await running.node.stop()
    await running.ledger.close()
    running = undefined
  }
})
