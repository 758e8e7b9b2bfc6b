// Demo network view (loaded on first use): start N in-tab validators, watch PBFT's messages flow
// between them, inject faults, and put load on it.
import type { DemoController } from '../demo/controller.ts'
import { FLOW_KINDS, type FlowKind } from '../demo/flow.ts'
import type { LoadSample } from '../demo/load.ts'
import { explain } from './console-view.ts'
import { paintThroughput, WINDOW_S } from './demo-chart.ts'
import { bytes, fill, frameScheduler, h } from './dom.ts'

const COLORS: Record<FlowKind, string> = {
  request: '#c3c8d3', 'pre-prepare': '#7b4fd6', prepare: '#2d6cdf', commit: '#1f9d55', checkpoint: '#c98a00',
  'view-change': '#d64545', 'new-view': '#e0569a', fetch: '#6b7386', other: '#999'
}
const WINDOW_MS = 4000
const MAX_REQUESTS = 400
const FLOW_FPS = 20

/** The canvas cleared for a repaint, sized to its CSS box at the screen's pixel density; w and hgt in CSS pixels. */
function blank (canvas: HTMLCanvasElement): { ctx: CanvasRenderingContext2D, w: number, hgt: number } | undefined {
  const ctx = canvas.getContext('2d')
  if (ctx === null) return undefined
  const w = canvas.clientWidth
  const hgt = canvas.clientHeight
  if (canvas.width !== w * devicePixelRatio) { canvas.width = w * devicePixelRatio; canvas.height = hgt * devicePixelRatio }
  ctx.setTransform(devicePixelRatio, 0, 0, devicePixelRatio, 0, 0)
  ctx.clearRect(0, 0, w, hgt)
  return { ctx, w, hgt }
}

export function mountDemoView (root: HTMLElement, demo: DemoController): void {
  const nInput = h('input', { type: 'number', min: 1, max: 16, value: 4, style: 'width:60px' })
  const storage = h('select', {}, h('option', { value: 'memory' }, 'memory'), h('option', { value: 'indexeddb' }, 'IndexedDB'))
  const security = h('input', { type: 'checkbox', id: 'demo-security', title: 'a CA in this tab enrolls the validators and a demo user: signed consensus, signed transactions' })
  const startBtn = h('button', { class: 'btn primary' }, 'Start demo network')
  const stopBtn = h('button', { class: 'btn' }, 'Stop')
  const out = h('div')
  const stats = h('div', { class: 'stats' })
  const stall = h('div', { class: 'stall' })
  const cards = h('div', { class: 'replicas' })
  const flow = h('canvas', { height: 260, style: 'height:260px' }) as HTMLCanvasElement
  const counts = h('div')
  const rate = h('input', { type: 'number', min: 0, value: 200, style: 'width:80px' })
  const loadBtn = h('button', { class: 'btn primary' }, 'Start load')
  const chart = document.createElementNS('http://www.w3.org/2000/svg', 'svg')
  chart.setAttribute('class', 'throughput')
  chart.setAttribute('role', 'img')
  chart.setAttribute('aria-label', 'committed transactions per second and p50 latency over time')
  const meter = h('div', { class: 'storage-meter' })
  const log = h('div', { class: 'log' })
  const samples: LoadSample[] = []
  demo.onSample(s => { samples.push(s); if (samples.length > WINDOW_S + 1) samples.shift(); paintChart() })

  const act = (fn: () => unknown): void => {
    Promise.resolve().then(fn).catch((err: unknown) => { out.replaceChildren(h('div', { class: 'result err' }, explain(err))) })
  }
  startBtn.addEventListener('click', () => act(async () => {
    out.replaceChildren()
    await demo.start({ n: Number(nInput.value), storage: storage.value as 'memory' | 'indexeddb', security: security.checked })
  }))
  stopBtn.addEventListener('click', () => act(() => demo.stop()))
  loadBtn.addEventListener('click', () => act(() => {
    if (demo.gen?.active === true) demo.load(null)
    else demo.load(Number(rate.value))
  }))

  root.append(
    h('div', { class: 'panel' },
      h('h2', {}, 'In-tab PBFT network', h('small', {}, 'N validators (vp0…), each a full Weft peer from src/, over in-memory links in this tab')),
      h('div', { class: 'row' }, h('label', {}, 'validators'), nInput, h('label', {}, 'storage'), storage, h('label', { for: 'demo-security' }, 'security'), security, startBtn, stopBtn),
      h('p', { class: 'muted' }, 'A view change needs pending requests: start the load, then crash the primary (or make it byzantine). Restart it to watch it catch up.'),
      out, stats, stall),
    h('div', { class: 'panel' }, h('h2', {}, 'Storage', h('small', {}, 'what waits to be written, and whether IndexedDB keeps up')), meter),
    h('div', { class: 'panel' }, h('h2', {}, 'Replicas'), cards),
    h('div', { class: 'panel' },
      h('h2', {}, 'Message flow', h('small', {}, `last ${WINDOW_MS / 1000} s, one line per CONSENSUS message from sender to receiver`)),
      h('div', { class: 'legend' }, FLOW_KINDS.filter(k => k !== 'other' && k !== 'fetch').map(k => h('span', {}, h('i', { style: `background:${COLORS[k]}` }), k))),
      flow, counts),
    h('div', { class: 'grid2' },
      h('div', { class: 'panel' },
        h('h2', {}, 'Load generator'),
        h('div', { class: 'row' }, h('label', {}, 'tx/s (0 = flat out)'), rate, loadBtn),
        chart,
        h('div', { class: 'legend' }, h('span', {}, h('i', { style: 'background:#2d6cdf' }), 'committed tx/s (left axis)'), h('span', {}, h('i', { style: 'background:#d64545' }), 'p50 latency in ms (right axis)'))),
      h('div', { class: 'panel' }, h('h2', {}, 'What happened'), log))
  )

  // Cards are updated in place, their buttons rebuilt only when what they offer changes: a
  // button replaced between mouse down and up would swallow the click.
  type Replica = ReturnType<DemoController['status']>['replicas'][number]
  const shown = new Map<number, { el: HTMLElement, title: HTMLElement, line1: HTMLElement, line2: HTMLElement, btns: HTMLElement, offer: string }>()
  const btn = (label: string, fn: () => unknown, cls = 'btn'): HTMLElement => {
    const b = h('button', { class: cls }, label)
    b.addEventListener('click', () => act(fn))
    return b
  }
  const replicaCard = (r: Replica): HTMLElement => {
    let c = shown.get(r.index)
    if (c === undefined) {
      const parts = { title: h('h3'), line1: h('div', { class: 'mono' }), line2: h('div', { class: 'mono muted' }), btns: h('div', { class: 'btns' }) }
      c = { el: h('div', { 'data-replica': r.index }, parts.title, parts.line1, parts.line2, parts.btns), ...parts, offer: '' }
      shown.set(r.index, c)
    }
    c.el.className = `replica${r.up ? '' : ' down'}${r.partitioned ? ' partitioned' : ''}`
    fill(c.title, r.name,
      r.primary && r.up ? h('span', { class: 'badge primary' }, 'primary') : null,
      h('span', { class: `badge ${r.up ? 'up' : 'down'}` }, r.up ? 'up' : 'crashed'),
      r.partitioned ? h('span', { class: 'badge relayed' }, 'partitioned') : null,
      r.byzantine ? h('span', { class: 'badge byz' }, 'byzantine') : null)
    c.line1.textContent = `height ${r.height} · view ${r.view ?? '—'}${r.activeView === false ? ' (changing)' : ''}`
    c.line2.textContent = `lastExec ${r.lastExec ?? '—'} · h ${r.h ?? '—'} · peers ${r.peers}`
    const offer = `${r.up} ${r.partitioned} ${r.byzantine}`
    if (offer !== c.offer) {
      c.offer = offer
      fill(c.btns,
        r.up ? btn('Crash', () => demo.crash(r.index), 'btn danger') : btn('Restart', () => demo.restart(r.index), 'btn primary'),
        r.partitioned ? btn('Heal', () => demo.heal(r.index)) : btn('Partition', () => demo.partition(r.index)),
        btn(r.byzantine ? 'Honest' : 'Byzantine', () => demo.byzantine(r.index, !r.byzantine)))
    }
    return c.el
  }

  const paint = (): void => {
    const s = demo.status()
    startBtn.disabled = s.running || s.starting
    stopBtn.disabled = !s.running
    nInput.disabled = storage.disabled = security.disabled = s.running || s.starting
    loadBtn.disabled = !s.running
    loadBtn.textContent = s.load.active ? 'Stop load' : 'Start load'
    const last = s.load.last
    fill(stats, !s.running && !s.starting ? null : [
      h('div', {}, h('span', {}, 'view'), h('div', { class: 'stat' }, `${s.view}`)),
      h('div', {}, h('span', {}, 'primary'), h('div', { class: 'stat' }, s.primary === undefined ? '—' : `vp${s.primary}`)),
      h('div', {}, h('span', {}, 'live / needed'), h('div', { class: 'stat' }, `${s.quorum.live} / ${s.quorum.needed}`)),
      h('div', {}, h('span', {}, 'view changes'), h('div', { class: 'stat' }, `${Math.max(0, s.views.length - 1)}`)),
      h('div', {}, h('span', {}, 'committed'), h('div', { class: 'stat' }, `${s.load.committed}`)),
      h('div', {}, h('span', {}, 'tx/s'), h('div', { class: 'stat' }, `${last?.txps ?? 0}`)),
      h('div', {}, h('span', {}, 'p50 latency'), h('div', { class: 'stat' }, last?.p50 === undefined ? '—' : `${Math.round(last.p50)} ms`)),
      h('div', {}, h('span', {}, 'in flight'), h('div', { class: 'stat' }, `${s.load.inFlight}`)),
      h('div', {}, h('span', {}, 'forged msgs'), h('div', { class: 'stat' }, `${s.forged}`))
    ])
    const q = s.quorum
    fill(stall, s.running && q.stalled
      ? h('div', { class: 'notice error' }, `stalled: waiting for quorum. ${q.live} of ${s.n} replicas are reachable and PBFT needs ${q.needed} (2f+1) to order anything; restart or heal replicas to go on.`)
      : null)
    fill(meter, storageMeter(s))
    if (!s.running) shown.clear()
    const want = s.starting ? [h('p', { class: 'empty' }, 'starting…')] : s.replicas.map(replicaCard)
    if (want.length !== cards.children.length || want.some((e, i) => cards.children[i] !== e)) fill(cards, want)
    fill(counts, s.replicas.length === 0
      ? null
      : h('table', {}, h('tr', {}, h('th', {}, 'sent by'), FLOW_KINDS.filter(k => k !== 'other').map(k => h('th', {}, k))),
        s.sent.map((row, i) => h('tr', {}, h('td', {}, `vp${i}`), FLOW_KINDS.filter(k => k !== 'other').map(k => h('td', { class: 'num' }, row[k]))))))
    fill(log, demo.log.slice(0, 60).map(l => h('div', {}, `${new Date(l.time).toLocaleTimeString()} ${l.text}`)))
  }
  const schedule = frameScheduler(paint)
  demo.onChange(schedule)
  // The chart too: its time scale moves on while no samples come (load off, network stopped).
  setInterval(() => { if (root.offsetParent !== null) { schedule(); paintChart() } }, 500)
  paint()

  const paintFlow = (): void => {
    const canvas = blank(flow)
    if (canvas === undefined) return
    const { ctx, w, hgt } = canvas
    const n = demo.net?.n ?? 0
    if (n === 0) { ctx.fillStyle = '#888'; ctx.fillText('start the demo network to see its messages', 12, 20); return }
    const left = 44
    const y = (i: number): number => 16 + i * (hgt - 32) / Math.max(1, n - 1)
    ctx.font = '12px system-ui'
    ctx.strokeStyle = '#eef0f4'
    for (let i = 0; i < n; i++) {
      ctx.fillStyle = '#333'
      ctx.fillText(`vp${i}`, 6, y(i) + 4)
      ctx.beginPath(); ctx.moveTo(left, y(i)); ctx.lineTo(w - 6, y(i)); ctx.stroke()
    }
    const now = Date.now()
    const x = (t: number): number => left + (w - left - 6) * (1 - (now - t) / WINDOW_MS)
    const fl = demo.flow
    // Client requests dominate under load: draw at most MAX_REQUESTS of them, every PBFT message.
    let requests = 0
    for (let k = fl.length - 1; k >= 0; k--) {
      const e = fl[k]
      if (now - e.time > WINDOW_MS) break
      if (e.kind === 'request' && ++requests > MAX_REQUESTS) continue
      ctx.strokeStyle = COLORS[e.kind]
      ctx.globalAlpha = e.kind === 'request' ? 0.25 : 0.85
      ctx.lineWidth = e.forged === true ? 2.5 : e.kind === 'request' ? 0.6 : 1.2
      ctx.setLineDash(e.forged === true ? [3, 3] : [])
      ctx.beginPath(); ctx.moveTo(x(e.time), y(e.from)); ctx.lineTo(x(e.time) + 14, y(e.to)); ctx.stroke()
    }
    ctx.globalAlpha = 1
    ctx.setLineDash([])
    // Mark each new view where its new-view message went out.
    const marked = new Set<number>()
    for (let k = fl.length - 1; k >= 0; k--) {
      const e = fl[k]
      if (now - e.time > WINDOW_MS) break
      if (e.kind !== 'new-view' || e.view === undefined || marked.has(e.view)) continue
      marked.add(e.view)
      ctx.fillStyle = COLORS['new-view']
      ctx.font = 'bold 12px system-ui'
      ctx.fillText(`new view ${e.view} (primary vp${e.view % n})`, Math.min(x(e.time) + 4, w - 170), 12)
    }
  }

  const paintChart = frameScheduler(() => { paintThroughput(chart, samples, Date.now()) })
  paintChart()

  let lastFlow = 0
  const loop = (now: number): void => {
    if (root.offsetParent !== null && !document.hidden && now - lastFlow > 1000 / FLOW_FPS) {
      lastFlow = now
      paintFlow()
    }
    requestAnimationFrame(loop)
  }
  requestAnimationFrame(loop)
}

/** The storage meter: figures a second, and a plain sentence on whether IndexedDB holds the network back. */
function storageMeter (s: ReturnType<DemoController['status']>): HTMLElement[] {
  const m = s.storageMeter
  if (!s.running) return [h('p', { class: 'empty' }, 'start the demo network to see its storage')]
  const figure = (label: string, value: string, key: string): HTMLElement => h('div', { 'data-figure': key }, h('span', {}, label), h('div', { class: 'stat' }, value))
  const pct = Math.round(m.busy * 100)
  return [
    h('div', { class: 'stats' },
      figure('storage', m.storage === 'memory' ? 'memory' : 'IndexedDB', 'storage'),
      figure('queued', `${m.pendingBatches} ${m.pendingBatches === 1 ? 'batch' : 'batches'} · ${bytes(m.pendingBytes)}`, 'queued'),
      figure('written', `${bytes(Math.round(m.bytesPerSecond))}/s`, 'written'),
      figure('keys written', `${Math.round(m.opsPerSecond).toLocaleString('en-US')}/s`, 'keys'),
      figure('flushes', `${m.flushesPerSecond.toFixed(1)}/s`, 'flushes'),
      figure('flush busy', `${pct}%`, 'busy'),
      figure('commit rate', `${s.load.last?.txps ?? 0} tx/s`, 'rate')),
    h('div', { class: 'busy-bar', title: `IndexedDB flushes under way ${pct}% of the last second${m.busiest === undefined ? '' : ` at ${m.busiest}`}` }, h('i', { style: `width:${pct}%` })),
    h('p', { class: `verdict${m.bottleneck ? ' bottleneck' : ''}` }, m.verdict)
  ]
}
