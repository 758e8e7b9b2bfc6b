// Peer view: connected peers (transport, handler FSM state, last heard), libp2p links, this
// tab's addresses and message counters.
import { transportOf } from '../app/browser-peer.ts'
import { short } from '../app/chain.ts'
import type { AppState } from '../app/weft-api.ts'
import { ago, fill, frameScheduler, h } from './dom.ts'

export function mountPeerView (root: HTMLElement, state: AppState): () => void {
  const conns = h('div')
  const links = h('div')
  const addrs = h('div')
  const counters = h('div')
  root.append(
    h('div', { class: 'panel' }, h('h2', {}, 'Connected peers', h('small', {}, 'one Chat stream each; FSM state from the messages seen, liveness only from what arrived')), conns),
    h('div', { class: 'grid2' },
      h('div', { class: 'panel' }, h('h2', {}, 'libp2p connections'), links),
      h('div', { class: 'panel' }, h('h2', {}, 'This tab'), addrs)),
    h('div', { class: 'panel' }, h('h2', {}, 'Chat messages', h('small', {}, 'by type, since the page loaded')), counters)
  )

  const paint = (): void => {
    const p = state.peer
    if (p === undefined) {
      fill(conns, h('p', { class: 'empty' }, state.error ?? 'The peer is starting…'))
      return
    }
    const list = p.connections()
    fill(conns, list.length === 0
      ? h('p', { class: 'empty' }, 'No peers connected.')
      : h('div', { class: 'scroll' }, h('table', {},
        h('tr', {}, ['peer', 'peer id', 'role', 'transport', 'FSM', 'dir', 'last heard', 'in', 'out'].map(t => h('th', {}, t))),
        list.map(c => h('tr', {},
          h('td', {}, h('b', {}, c.name || '?')),
          h('td', { class: 'mono', title: c.peerId }, short(c.peerId, 16)),
          h('td', {}, c.role),
          h('td', {}, h('span', { class: `badge ${c.transport}` }, c.transport)),
          h('td', {}, h('span', { class: `badge ${c.state}` }, c.state)),
          h('td', {}, c.direction),
          h('td', {}, ago(c.lastHeardMs)),
          h('td', { class: 'num' }, c.received),
          h('td', { class: 'num' }, c.sent))))))
    const all = p.libp2p.getConnections()
    fill(links, all.length === 0
      ? h('p', { class: 'empty' }, 'none')
      : h('table', { class: 'fixed' }, h('tr', {}, h('th', { style: 'width:55%' }, 'remote address'), h('th', { style: 'width:12%' }, 'kind'), h('th', {}, 'streams')),
        all.map(c => h('tr', {},
          h('td', { class: 'mono wrap' }, c.remoteAddr.toString()),
          h('td', {}, h('span', { class: `badge ${transportOf(c)}` }, transportOf(c)), h('br'), h('span', { class: 'muted' }, c.direction)),
          h('td', { class: 'mono wrap' }, c.streams.map(s => s.protocol ?? '?').join(' '))))))
    fill(addrs,
      h('p', {}, 'Peer id ', h('code', {}, p.peerId)),
      h('p', {}, 'Name ', h('code', {}, p.name), ' · slot ', String(state.slot), ' · ledger in IndexedDB ', h('code', {}, p.dbName)),
      h('p', {}, 'Network ', h('code', {}, state.bootstrap.info?.networkId ?? '—'), ' from ', h('code', {}, state.bootstrap.source)),
      h('div', {}, h('b', {}, 'Addresses'), h('ul', {}, p.addresses().map(a => h('li', { class: 'mono' }, a)))))
    const names = [...new Set([...Object.keys(p.meter.received), ...Object.keys(p.meter.sent)])].sort()
    fill(counters, names.length === 0
      ? h('p', { class: 'empty' }, 'none yet')
      : h('table', {}, h('tr', {}, h('th', {}, 'type'), h('th', {}, 'received'), h('th', {}, 'sent')),
        names.map(n => h('tr', {}, h('td', { class: 'mono' }, n), h('td', { class: 'num' }, p.meter.received[n] ?? 0), h('td', { class: 'num' }, p.meter.sent[n] ?? 0)))))
  }
  const schedule = frameScheduler(paint)
  paint()
  return schedule
}
