// Event stream: BLOCK, CHAINCODE and REJECTION events as the event hub defines them, newest
// first, with type and text filters (chaincode id, event name, txid); blocks, txids and
// chaincodes link to the explorer.
import { short } from '../app/chain.ts'
import type { PeerFacade, WeftEvent } from '../app/facade.ts'
import { fill, frameScheduler, h } from './dom.ts'
import { link } from './explorer-view.ts'

const KEEP = 1000

function describe (e: WeftEvent): Array<Node | string> {
  switch (e.kind) {
    case 'BLOCK': return [link('block', e.block.number, `#${e.block.number}`), ` ${short(e.block.hash, 16)} · ${e.block.txs.length} tx${e.block.failed > 0 ? ` (${e.block.failed} failed)` : ''} · state ${short(e.block.stateHash, 12) || '—'}`]
    case 'CHAINCODE': return [`${e.event.eventName} from `, link('chaincode', e.event.chaincodeID, short(e.event.chaincodeID, 12), e.event.chaincodeID), ' tx ', link('tx', e.event.txid, short(e.event.txid, 12), e.event.txid), ' (block ', link('block', e.block, `#${e.block}`), `): ${e.event.payload}`]
    case 'REJECTION': return ['tx ', link('tx', e.txid, short(e.txid, 16), e.txid), ' on ', e.chaincode === '' ? '?' : link('chaincode', e.chaincode, short(e.chaincode, 12), e.chaincode), `: ${e.error}`]
  }
}

function searchable (e: WeftEvent): string {
  switch (e.kind) {
    case 'BLOCK': return `${e.block.number} ${e.block.hash} ${e.block.txs.map(t => `${t.txid} ${t.chaincode}`).join(' ')}`
    case 'CHAINCODE': return `${e.event.chaincodeID} ${e.event.eventName} ${e.event.txid} ${e.event.payload}`
    case 'REJECTION': return `${e.txid} ${e.chaincode} ${e.error}`
  }
}

export function mountEventsView (root: HTMLElement, facade: () => PeerFacade | undefined): { attach: () => void } {
  const events: WeftEvent[] = []
  const kinds = { BLOCK: true, CHAINCODE: true, REJECTION: true }
  let paused = false
  const boxes = (Object.keys(kinds) as Array<keyof typeof kinds>).map(k => {
    const cb = h('input', { type: 'checkbox', checked: true })
    cb.addEventListener('change', () => { kinds[k] = cb.checked; schedule() })
    return h('label', { class: `k-${k}` }, cb, ` ${k}`)
  })
  const text = h('input', { size: 30, placeholder: 'filter: chaincode id, event name, txid…' })
  text.addEventListener('input', () => schedule())
  const pause = h('button', { class: 'btn' }, 'Pause')
  pause.addEventListener('click', () => { paused = !paused; pause.textContent = paused ? 'Resume' : 'Pause'; schedule() })
  const count = h('span', { class: 'muted' })
  const list = h('ul', { class: 'events' })
  root.append(h('div', { class: 'panel' },
    h('h2', {}, 'Event stream', h('small', {}, 'REJECTION events come from the peer that executed the transaction (the Node peer, over /weft/events/0.6.1, or this tab when it validates)')),
    h('div', { class: 'row' }, ...boxes, text, pause, count),
    list))

  const schedule = frameScheduler(() => {
    // Not while the view is hidden (a sync brings thousands of events): painted when shown.
    if (paused || root.offsetParent === null) return
    const f = text.value.trim().toLowerCase()
    const shown = events.filter(e => kinds[e.kind] && (f === '' || searchable(e).toLowerCase().includes(f))).slice(-300).reverse()
    count.textContent = `${shown.length} shown of ${events.length}`
    fill(list, shown.map(e => h('li', {}, h('span', { class: 'muted' }, new Date(e.time).toLocaleTimeString(), ' '), h('span', { class: `k-${e.kind}` }, e.kind), ' ', ...describe(e))))
  })

  /** For the demo view too: feed events from elsewhere. */
  const push = (e: WeftEvent): void => {
    events.push(e)
    if (events.length > KEEP) events.splice(0, events.length - KEEP)
    schedule()
  }
  let attached = false
  new MutationObserver(() => { if (root.classList.contains('active')) schedule() }).observe(root, { attributes: true, attributeFilter: ['class'] })
  return {
    attach () {
      const fc = facade()
      if (fc === undefined || attached) return
      attached = true
      fc.onEvent(push)
    }
  }
}
