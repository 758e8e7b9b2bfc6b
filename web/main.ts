// The Weft web app: this tab becomes a Fabric 0.6.1 peer (src/ core on browser edges), with a UI
// and window.weft for scripts. The demo network is loaded on first use.
import './styles.css'
import { BrowserPeer } from './app/browser-peer.ts'
import { resolveBootstrap } from './app/bootstrap.ts'
import { claimSlot, loadOrCreateKey } from './app/identity.ts'
import { installLogSink } from './app/logs.ts'
import { Notices, isQuotaError, QUOTA_TEXT, persistStorage } from './app/notices.ts'
import { keepDataChannelOpen, VisibilityScheduler } from './app/visibility.ts'
import { createWeftApi, type AppState, type WeftDemoApi } from './app/weft-api.ts'
import type { Demo } from './demo/entry.ts'
import { mountConsoleView } from './ui/console-view.ts'
import { h } from './ui/dom.ts'
import { mountEventsView } from './ui/events-view.ts'
import { mountExplorerView } from './ui/explorer-view.ts'
import { mountHeader, type StorageInfo } from './ui/header.ts'
import { mountLogsView } from './ui/logs-view.ts'
import { mountNotices } from './ui/notices-view.ts'
import { mountPeerView } from './ui/peer-view.ts'

const params = new URLSearchParams(location.search)
installLogSink(params.get('log'))

const notices = new Notices()
const scheduler = new VisibilityScheduler(10)
let demo: Promise<Demo> | undefined
const loadDemo = (): Promise<Demo> => (demo ??= import('./demo/entry.ts').then(m => m.createDemo(scheduler)))

const state: AppState = {
  slot: -1,
  bootstrap: { source: 'resolving…' },
  scheduler,
  keepAwake: false,
  notices,
  demo: async (): Promise<WeftDemoApi> => (await loadDemo()).api
}

// ---- shell
const app = document.getElementById('app')!
const header = h('header', { class: 'top' })
const noticeBox = h('div', { class: 'notices' })
const views = {
  peer: h('section', { class: 'view', id: 'view-peer' }),
  blocks: h('section', { class: 'view', id: 'view-blocks' }),
  chaincode: h('section', { class: 'view', id: 'view-chaincode' }),
  events: h('section', { class: 'view', id: 'view-events' }),
  logs: h('section', { class: 'view', id: 'view-logs' }),
  demo: h('section', { class: 'view', id: 'view-demo' })
}
type ViewName = keyof typeof views
const labels: Record<ViewName, string> = { peer: 'Peer', blocks: 'Explorer', chaincode: 'Chaincode', events: 'Events', logs: 'Logs', demo: 'Demo network' }
const nav = h('nav', { class: 'tabs' })
const buttons = (Object.keys(views) as ViewName[]).map(v => {
  const b = h('button', { 'data-view': v }, labels[v])
  b.addEventListener('click', () => { location.hash = v })
  return b
})
nav.append(...buttons)
app.replaceChildren(header, nav, noticeBox, h('main', {}, ...Object.values(views)))

let storage: StorageInfo | undefined
const repaintHeader = mountHeader(header, state, () => storage)
mountNotices(noticeBox, notices)
const repaintPeer = mountPeerView(views.peer, state)
const facade = (): BrowserPeer['facade'] | undefined => state.peer?.facade
const explorerView = mountExplorerView(views.blocks, facade)
const consoleView = mountConsoleView(views.chaincode, facade)
const eventsView = mountEventsView(views.events, facade)
mountLogsView(views.logs)

// #view, or #blocks/<tx|block|chaincode|search>/<what> for a page of the explorer.
function show (): void {
  const [v, ...rest] = location.hash.slice(1).split('/')
  const name: ViewName = v in views ? v as ViewName : 'peer'
  for (const [k, el] of Object.entries(views)) el.classList.toggle('active', k === name)
  for (const b of buttons) {
    b.classList.toggle('active', b.dataset.view === name)
    // On a narrow screen the tabs scroll sideways: keep the open one in sight.
    if (b.dataset.view === name) b.scrollIntoView?.({ block: 'nearest', inline: 'nearest' })
  }
  if (name === 'demo') {
    loadDemo().then(d => d.mount(views.demo)).catch(err => notices.show('demo', 'error', `The demo network could not be loaded: ${(err as Error).message}`))
  }
  if (name === 'chaincode') void consoleView.attach()
  if (name === 'blocks') explorerView.route(rest.join('/'))
}
addEventListener('hashchange', show)
show()

scheduler.onChange(() => repaintHeader())
setInterval(() => { repaintHeader(); repaintPeer() }, 1000)

// ---- the peer
async function start (): Promise<void> {
  const bootstrap = await resolveBootstrap()
  state.bootstrap = bootstrap
  if (bootstrap.error !== undefined) notices.show('unreachable', 'error', bootstrap.error)
  const wanted = params.get('slot')
  const slot = await claimSlot(wanted === null ? undefined : Number(wanted))
  state.slot = slot.index
  const key = await loadOrCreateKey(slot.index)
  persistStorage().then(s => { storage = s; repaintHeader() }).catch(() => {})
  const peer = await BrowserPeer.start({ key, slot: slot.index, bootstrap: bootstrap.info, scheduler, notices })
  state.peer = peer
  peer.onHead(() => repaintHeader())
  peer.meter.onChange(() => { repaintHeader(); repaintPeer() })
  eventsView.attach()
  await explorerView.attach()
  void consoleView.attach()
  repaintHeader()
  repaintPeer()
}

const ready = start().catch((err: unknown) => {
  state.error = `The peer could not start: ${(err as Error).message}`
  notices.show('start', 'error', isQuotaError(err) ? QUOTA_TEXT : state.error)
  repaintHeader()
  repaintPeer()
  throw err
})
ready.catch(() => {})
window.weft = createWeftApi(state, ready)

// Keep a data channel open: Chrome neither freezes nor intensively throttles a tab with live WebRTC.
keepDataChannelOpen().then(k => {
  state.keepAwake = k.open
  if (!k.open) console.info('weft: no loopback WebRTC channel (keep-awake off)')
}).catch(() => {})
