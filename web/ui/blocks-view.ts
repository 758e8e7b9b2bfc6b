// Blocks view: the chain as it grows, newest first; each block opens to its transactions,
// state hash and chaincode events.
import { short, type BlockSummary } from '../app/chain.ts'
import type { PeerFacade } from '../app/facade.ts'
import { frameScheduler, h } from './dom.ts'

const KEEP = 50

export function blockElement (b: BlockSummary, fresh = false): HTMLElement {
  const tx = b.txs.length
  return h('details', { class: `block${fresh ? ' fresh' : ''}`, 'data-block': b.number },
    h('summary', {},
      h('span', { class: 'n' }, `#${b.number}`),
      h('span', { class: 'mono', title: b.hash }, short(b.hash, 16)),
      h('span', {}, `${tx} tx${tx === 1 ? '' : 's'}`),
      b.failed > 0 ? h('span', { class: 'badge byz' }, `${b.failed} failed`) : null,
      b.events.length > 0 ? h('span', { class: 'badge webrtc' }, `${b.events.length} event${b.events.length === 1 ? '' : 's'}`) : null,
      h('span', { class: 'muted mono', title: b.stateHash }, `state ${short(b.stateHash, 12) || '—'}`),
      b.committedAt !== undefined ? h('span', { class: 'muted' }, new Date(b.committedAt).toLocaleTimeString()) : null),
    h('div', { class: 'body' },
      h('p', { class: 'mono' }, 'hash ', b.hash, h('br'), 'previous ', b.previousHash || '—', h('br'), 'state hash ', b.stateHash || '— (empty state)'),
      tx === 0
        ? h('p', { class: 'empty' }, 'no transactions')
        : h('table', {}, h('tr', {}, ['txid', 'type', 'chaincode', 'arguments'].map(t => h('th', {}, t))),
          b.txs.slice(0, 200).map(t => h('tr', {},
            h('td', { class: 'mono', title: t.txid }, short(t.txid, 20)),
            h('td', {}, t.type),
            h('td', { class: 'mono', title: t.chaincode }, short(t.chaincode, 14)),
            h('td', { class: 'mono' }, t.args.join(' '))))),
      tx > 200 ? h('p', { class: 'muted' }, `… and ${tx - 200} more`) : null,
      b.events.length > 0
        ? h('table', {}, h('tr', {}, ['event', 'chaincode', 'txid', 'payload'].map(t => h('th', {}, t))),
          b.events.map(e => h('tr', {}, h('td', {}, e.eventName), h('td', { class: 'mono' }, short(e.chaincodeID, 14)), h('td', { class: 'mono' }, short(e.txid, 14)), h('td', { class: 'mono' }, e.payload))))
        : null))
}

export function mountBlocksView (root: HTMLElement, facade: () => PeerFacade | undefined): { attach: () => Promise<void> } {
  const list = h('div')
  const info = h('p', { class: 'muted' }, 'Blocks appear here as this peer commits or receives them.')
  root.append(h('div', { class: 'panel' }, h('h2', {}, 'Blocks', h('small', {}, 'newest first')), info, list))
  let attached = false
  return {
    async attach () {
      const f = facade()
      if (f === undefined || attached) return
      attached = true
      const latest = await f.latestBlocks(30)
      list.replaceChildren(...latest.map(b => blockElement(b)))
      // A sync can bring thousands of blocks a second: render at most once a frame, the newest only.
      let pending: BlockSummary[] = []
      const flush = frameScheduler(() => {
        const batch = pending.slice(-KEEP)
        pending = []
        list.prepend(...batch.reverse().map(b => blockElement(b, true)))
        while (list.childElementCount > KEEP) list.lastElementChild?.remove()
      })
      f.onBlock(b => {
        pending.push(b)
        if (pending.length > 4 * KEEP) pending = pending.slice(-KEEP)
        flush()
      })
    }
  }
}
