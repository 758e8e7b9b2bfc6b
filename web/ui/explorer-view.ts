// Explorer view: one search box (txid, block number or chaincode name) and the chain a page of
// blocks at a time, newest first. Each block opens to its transactions and chaincode events;
// txids, block numbers and chaincode names link to their page (#blocks/tx/<txid>,
// #blocks/block/<n>, #blocks/chaincode/<name>; the box goes to #blocks/search/<what>), hashes
// have copy buttons.
import { short, type BlockSummary, type EventSummary } from '../app/chain.ts'
import { blockPage, chaincodeTxs, lookup, PAGE_SIZE, searchChaincode, type ChaincodeTx, type Lookup, type SearchResult, type TxDetail } from '../app/explorer.ts'
import type { PeerFacade } from '../app/facade.ts'
import { errorMessage } from '../../src/util/errors.ts'
import { copyButton } from './copy.ts'
import { fill, frameScheduler, h } from './dom.ts'

const LOOKUPS: readonly string[] = ['block', 'tx', 'chaincode', 'search'] satisfies Lookup[]
const href = (how: Lookup, what: string | number): string => `#blocks/${how}/${encodeURIComponent(String(what))}`
/** A link to the explorer's page of a block, a transaction or a chaincode. */
export const link = (how: Lookup, what: string | number, text: string, title?: string): HTMLElement => h('a', { href: href(how, what), class: 'mono', title }, text)
const scroll = (table: HTMLElement): HTMLElement => h('div', { class: 'scroll' }, table)
const hashLine = (label: string, hex: string, what: string, target?: HTMLElement): HTMLElement =>
  h('div', { class: 'hash-line' }, h('span', { class: 'muted' }, label), ' ',
    hex === '' ? h('span', { class: 'muted' }, '—') : [target ?? h('span', { class: 'mono' }, hex), copyButton(hex, what)])

function txTable (txs: Array<{ txid: string, type: string, chaincode: string, args: string[], block?: number }>, withBlock: boolean): HTMLElement {
  return scroll(h('table', { class: 'txs' },
    h('tr', {}, (withBlock ? ['block'] : []).concat(['txid', 'type', 'chaincode', 'arguments']).map(t => h('th', {}, t))),
    txs.map(t => h('tr', { 'data-txid': t.txid },
      withBlock ? h('td', {}, link('block', t.block ?? '', `#${t.block ?? '?'}`)) : null,
      h('td', { class: 'nowrap' }, link('tx', t.txid, short(t.txid, 16), t.txid), copyButton(t.txid, 'txid')),
      h('td', {}, t.type),
      h('td', {}, t.chaincode === '' ? '—' : link('chaincode', t.chaincode, short(t.chaincode, 14), t.chaincode)),
      h('td', { class: 'mono wrap' }, t.args.join(' '))))))
}

function eventTable (events: EventSummary[]): HTMLElement {
  return scroll(h('table', { class: 'events-table' },
    h('tr', {}, ['event', 'chaincode', 'txid', 'payload'].map(t => h('th', {}, t))),
    events.map(e => h('tr', {},
      h('td', {}, e.eventName),
      h('td', {}, link('chaincode', e.chaincodeID, short(e.chaincodeID, 14), e.chaincodeID)),
      h('td', {}, link('tx', e.txid, short(e.txid, 14), e.txid)),
      h('td', { class: 'mono wrap' }, e.payload)))))
}

export function blockElement (b: BlockSummary, opts: { fresh?: boolean, open?: boolean } = {}): HTMLDetailsElement {
  const tx = b.txs.length
  return h('details', { class: `block${opts.fresh === true ? ' fresh' : ''}`, 'data-block': b.number, open: opts.open },
    h('summary', {},
      h('span', { class: 'n' }, `#${b.number}`),
      h('span', { class: 'mono', title: b.hash }, short(b.hash, 16)),
      h('span', {}, `${tx} tx${tx === 1 ? '' : 's'}`),
      b.failed > 0 ? h('span', { class: 'badge byz' }, `${b.failed} failed`) : null,
      b.events.length > 0 ? h('span', { class: 'badge webrtc' }, `${b.events.length} event${b.events.length === 1 ? '' : 's'}`) : null,
      h('span', { class: 'muted mono', title: b.stateHash }, `state ${short(b.stateHash, 12) || '—'}`),
      b.committedAt !== undefined ? h('span', { class: 'muted' }, new Date(b.committedAt).toLocaleTimeString()) : null),
    h('div', { class: 'body' },
      hashLine('hash', b.hash, 'block hash'),
      hashLine('previous', b.previousHash, 'previous block hash', b.number > 0 ? link('block', b.number - 1, b.previousHash, `block #${b.number - 1}`) : undefined),
      hashLine('state hash', b.stateHash, 'state hash'),
      tx === 0 ? h('p', { class: 'empty' }, 'no transactions') : txTable(b.txs.slice(0, 200), false),
      tx > 200 ? h('p', { class: 'muted' }, `… and ${tx - 200} more`) : null,
      b.events.length > 0 ? eventTable(b.events) : null))
}

function txElement (t: TxDetail): HTMLElement {
  const row = (k: string, ...v: Array<Node | string | null>): HTMLElement => h('tr', {}, h('th', {}, k), h('td', {}, ...v))
  return h('div', { class: 'tx-detail', 'data-txid': t.txid },
    h('h3', {}, 'Transaction ', h('span', { class: `badge ${t.status === 'committed' ? 'up' : 'byz'}` }, t.status)),
    hashLine('txid', t.txid, 'txid'),
    h('table', { class: 'kv-table' },
      t.status === 'committed' ? row('block', link('block', t.block!, `#${t.block}`), h('span', { class: 'muted' }, ` transaction ${t.index! + 1} of the block`)) : null,
      t.error !== undefined ? row('rejected', h('span', { class: 'mono wrap err-text' }, t.error)) : null,
      t.type !== 'undefined' ? row('type', t.type) : null,
      t.chaincode !== '' ? row('chaincode', link('chaincode', t.chaincode, short(t.chaincode, 24), t.chaincode), copyButton(t.chaincode, 'chaincode name')) : null,
      t.type !== 'undefined' ? row('arguments', h('span', { class: 'mono wrap' }, t.args.length === 0 ? '—' : t.args.join(' '))) : null,
      t.time !== undefined ? row(t.status === 'committed' ? 'created' : 'seen', new Date(t.time).toLocaleString()) : null),
    t.events.length > 0 ? [h('h3', {}, 'Chaincode events'), eventTable(t.events)] : null)
}

export interface ExplorerView {
  attach (): Promise<void>
  /** The part of the location hash after "blocks/": "<lookup>/<what>" or "" (no search). */
  route (rest: string): void
}

export function mountExplorerView (root: HTMLElement, facade: () => PeerFacade | undefined): ExplorerView {
  const input = h('input', { type: 'search', class: 'search', placeholder: 'txid, block number or chaincode name', 'aria-label': 'search the chain', enterkeyhint: 'search' })
  const form = h('form', { class: 'row search-row' }, input, h('button', { class: 'btn primary', type: 'submit' }, 'Search'))
  form.addEventListener('submit', ev => {
    ev.preventDefault()
    const q = input.value.trim()
    location.hash = q === '' ? 'blocks' : href('search', q).slice(1)
  })
  const result = h('div', { class: 'panel search-result', hidden: true, id: 'explorer-result' })
  const list = h('div', { class: 'block-list' })
  const range = h('span', { class: 'muted range' })
  const fresh = h('button', { class: 'btn fresh-count', type: 'button', hidden: true })
  const pageBtn = (label: string, page: string, title: string): HTMLButtonElement =>
    h('button', { class: 'btn', type: 'button', 'data-page': page, title }, label)
  const newest = pageBtn('« Newest', 'newest', 'the newest blocks')
  const newer = pageBtn('‹ Newer', 'newer', `the ${PAGE_SIZE} newer blocks`)
  const older = pageBtn('Older ›', 'older', `the ${PAGE_SIZE} older blocks`)
  const oldest = pageBtn('Oldest »', 'oldest', 'the first blocks')
  const info = h('p', { class: 'muted' }, 'Blocks appear here as this peer commits or receives them.')
  root.append(
    h('div', { class: 'panel' }, h('h2', {}, 'Search'), form),
    result,
    h('div', { class: 'panel' }, h('h2', {}, 'Blocks', h('small', {}, 'newest first')),
      h('div', { class: 'row pager' }, newest, newer, range, older, oldest, fresh),
      info, list))

  /** The newest block shown, or undefined to follow the head. */
  let top: number | undefined
  let shownTop = -1
  const open = new Set<number>()
  let attached = false

  const height = (): number => facade()?.node.height ?? 0
  const go = (t: number | undefined): void => {
    const hgt = height()
    top = t === undefined || t >= hgt - 1 ? undefined : Math.max(t, Math.min(PAGE_SIZE - 1, hgt - 1))
    render()
  }
  newest.addEventListener('click', () => go(undefined))
  fresh.addEventListener('click', () => go(undefined))
  newer.addEventListener('click', () => go((top ?? height() - 1) + PAGE_SIZE))
  older.addEventListener('click', () => go((top ?? height() - 1) - PAGE_SIZE))
  oldest.addEventListener('click', () => go(PAGE_SIZE - 1))

  // One page read at a time; a request meanwhile makes one more pass after it.
  let busy = false
  let again = false
  const paint = async (f: PeerFacade): Promise<void> => {
    const hgt = f.node.height
    const t = Math.min(top ?? hgt - 1, hgt - 1)
    const blocks = t < 0 ? [] : await blockPage(f, t)
    const bottom = blocks.at(-1)?.number ?? 0
    range.textContent = hgt === 0 ? 'no blocks yet' : `#${t} to #${bottom} of ${hgt}`
    newest.disabled = newer.disabled = top === undefined
    older.disabled = oldest.disabled = bottom === 0
    const missed = top === undefined ? 0 : hgt - 1 - top
    fresh.hidden = top === undefined || missed <= 0
    fresh.textContent = `${missed} newer block${missed === 1 ? '' : 's'}`
    info.hidden = blocks.length > 0
    fill(list, blocks.map(b => {
      const el = blockElement(b, { fresh: shownTop >= 0 && b.number > shownTop && top === undefined, open: open.has(b.number) })
      el.addEventListener('toggle', () => { if (el.open) open.add(b.number); else open.delete(b.number) })
      return el
    }))
    shownTop = Math.max(shownTop, t)
  }
  const render = frameScheduler(() => {
    const f = facade()
    if (f === undefined) return
    if (busy) { again = true; return }
    busy = true
    void paint(f).catch(err => { info.hidden = false; info.textContent = `The blocks could not be read: ${errorMessage(err)}` }).finally(() => {
      busy = false
      if (again) { again = false; render() }
    })
  })

  // ---- search
  let searchSeq = 0
  const showResult = (r: SearchResult, f: PeerFacade): void => {
    result.hidden = false
    result.dataset.kind = r.kind
    const title = h('h2', {}, r.kind === 'none' ? 'Not found' : 'Found', h('small', {}, `for "${short(r.query, 40)}"`))
    switch (r.kind) {
      case 'block':
        fill(result, title, blockElement(r.block, { open: true }))
        break
      case 'tx':
        fill(result, title, txElement(r.tx))
        break
      case 'chaincode': {
        const txs: ChaincodeTx[] = [...r.hits.txs]
        const count = h('p', { class: 'muted' })
        const table = h('div')
        const more = h('button', { class: 'btn', type: 'button' }, 'Search older blocks')
        let next = r.hits.next
        const repaint = (): void => {
          const names = new Set(txs.map(t => t.chaincode))
          count.textContent = `${txs.length} deploy and invoke transaction${txs.length === 1 ? '' : 's'} of ${names.size === 1 ? 'chaincode' : `${names.size} chaincodes`} ${short([...names][0] ?? r.query, 24)}${names.size > 1 ? ' and others' : ''}, newest first${next < 0 ? '' : ` (blocks #${next + 1} and newer searched)`}`
          fill(table, txTable(txs, true))
          more.hidden = next < 0
        }
        more.addEventListener('click', () => {
          more.disabled = true
          void chaincodeTxs(f, r.query, next)
            .then(older => { txs.push(...older.txs); next = older.next; repaint() }, err => { count.textContent = `The search failed: ${errorMessage(err)}` })
            .finally(() => { more.disabled = false })
        })
        repaint()
        fill(result, title, count, table, more)
        break
      }
      case 'none': {
        const more = r.next === undefined ? null : h('button', { class: 'btn', type: 'button' }, 'Search older blocks')
        more?.addEventListener('click', () => {
          more.disabled = true
          void searchChaincode(f, r.query, r.next!).then(next => showResult(next, f), err => {
            more.disabled = false
            more.textContent = `Search older blocks (the last try failed: ${errorMessage(err)})`
          })
        })
        fill(result, title, h('p', { class: 'not-found' }, r.why), more)
      }
    }
  }
  const runSearch = (how: Lookup, q: string): void => {
    input.value = q
    const f = facade()
    if (q === '') { result.hidden = true; fill(result); return }
    result.hidden = false
    delete result.dataset.kind
    if (f === undefined) { fill(result, h('p', { class: 'empty' }, 'The peer is starting; the search runs once it has.')); return }
    fill(result, h('p', { class: 'muted' }, `searching for "${short(q, 40)}"…`))
    const seq = ++searchSeq
    void lookup(f, how, q).then(r => { if (seq === searchSeq) showResult(r, f) }, err => {
      if (seq === searchSeq) fill(result, h('p', { class: 'not-found' }, `The search failed: ${errorMessage(err)}`))
    })
  }

  let pendingRoute = ''
  return {
    async attach () {
      const f = facade()
      if (f === undefined || attached) return
      attached = true
      f.onBlock(() => { if (top === undefined && root.offsetParent !== null) render() })
      new MutationObserver(() => { if (root.classList.contains('active')) render() }).observe(root, { attributes: true, attributeFilter: ['class'] })
      render()
      if (pendingRoute !== '') this.route(pendingRoute)
    },
    route (rest) {
      pendingRoute = rest
      const m = /^(\w+)\/(.*)$/.exec(rest)
      const how = m !== null && LOOKUPS.includes(m[1]) ? m[1] as Lookup : undefined
      runSearch(how ?? 'search', how === undefined ? '' : decodeURIComponent(m![2]))
      if (m !== null) result.scrollIntoView?.({ block: 'nearest' })
    }
  }
}
