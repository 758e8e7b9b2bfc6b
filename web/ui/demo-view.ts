// Demo network view (loaded on first use): start N in-tab validators, watch PBFT's messages flow
// between them, inject faults, and put load on it.
import type { DemoController } from '../demo/controller.ts'
import { FLOW_KINDS, type FlowKind } from '../demo/flow.ts'
import type { LoadSample } from '../demo/load.ts'
import { explain } from './console-view.ts'
import { fill, frameScheduler, h } from './dom.ts'

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
  const chart = h('canvas', { height: 180, style: 'height:180px' }) as HTMLCanvasElement
  const log = h('div', { class: 'log' })
  const samples: LoadSample[] = []
  demo.onSample(s => { samples.push(s); if (samples.length > 90) samples.shift(); paintChart() })

  const act = (fn: () => unknown): void => {
    Promise.resolve().then(fn).catch((err: unknown) => { out.replaceChildren(h('div', { class: 'result err' }, explain(err))) })
  }
  startBtn.addEventListener('click', () => act(async () => {
    out.replaceChildren()
    await demo.start({ n: Number(nInput.value), storage: storage.value as 'memory' | 'indexeddb' })
  }))
  stopBtn.addEventListener('click', () => act(() => demo.stop()))
  loadBtn.addEventListener('click', () => act(() => {
    if (demo.gen?.active === true) demo.load(null)
    else demo.load(Number(rate.value))
  }))

  root.append(
    h('div', { class: 'panel' },
      h('h2', {}, 'In-tab PBFT network', h('small', {}, 'N validators (vp0…), each a full Weft peer from src/, over in-memory links in this tab')),
      h('div', { class: 'row' }, h('label', {}, 'validators'), nInput, h('label', {}, 'storage'), storage, startBtn, stopBtn),
      h('p', { class: 'muted' }, 'A view change needs pending requests: start the load, then crash the primary (or make it byzantine). Restart it to watch it catch up.'),
      out, stats, stall),
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
        h('div', { class: 'legend' }, h('span', {}, h('i', { style: 'background:#2d6cdf' }), 'committed tx/s'), h('span', {}, h('i', { style: 'background:#d64545' }), 'p50 latency (ms)'))),
      h('div', { class: 'panel' }, h('h2', {}, 'What happened'), log))
  )

  const replicaCard = (r: ReturnType<DemoController['status']>['replicas'][number]): HTMLElement => {
    const btn = (label: string, fn: () => unknown, cls = 'btn'): HTMLElement => {
      const b = h('button', { class: cls }, label)
      b.addEventListener('click', () => act(fn))
      return b
    }
    const cls = `replica${r.up ? '' : ' down'}${r.partitioned ? ' partitioned' : ''}`
    return h('div', { class: cls, 'data-replica': r.index },
      h('h3', {}, r.name,
        r.primary && r.up ? h('span', { class: 'badge primary' }, 'primary') : null,
        h('span', { class: `badge ${r.up ? 'up' : 'down'}` }, r.up ? 'up' : 'crashed'),
        r.partitioned ? h('span', { class: 'badge relayed' }, 'partitioned') : null,
        r.byzantine ? h('span', { class: 'badge byz' }, 'byzantine') : null),
      h('div', { class: 'mono' }, `height ${r.height} · view ${r.view ?? '—'}${r.activeView === false ? ' (changing)' : ''}`),
      h('div', { class: 'mono muted' }, `lastExec ${r.lastExec ?? '—'} · h ${r.h ?? '—'} · peers ${r.peers}`),
      h('div', { class: 'btns' },
        r.up ? btn('Crash', () => demo.crash(r.index), 'btn danger') : btn('Restart', () => demo.restart(r.index), 'btn primary'),
        r.partitioned ? btn('Heal', () => demo.heal(r.index)) : btn('Partition', () => demo.partition(r.index)),
        btn(r.byzantine ? 'Honest' : 'Byzantine', () => demo.byzantine(r.index, !r.byzantine))))
  }

  const paint = (): void => {
    const s = demo.status()
    startBtn.disabled = s.running || s.starting
    stopBtn.disabled = !s.running
    nInput.disabled = storage.disabled = s.running || s.starting
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
    fill(cards, s.starting ? h('p', { class: 'empty' }, 'starting…') : s.replicas.map(replicaCard))
    fill(counts, s.replicas.length === 0
      ? null
      : h('table', {}, h('tr', {}, h('th', {}, 'sent by'), FLOW_KINDS.filter(k => k !== 'other').map(k => h('th', {}, k))),
        s.sent.map((row, i) => h('tr', {}, h('td', {}, `vp${i}`), FLOW_KINDS.filter(k => k !== 'other').map(k => h('td', { class: 'num' }, row[k]))))))
    fill(log, demo.log.slice(0, 60).map(l => h('div', {}, `${new Date(l.time).toLocaleTimeString()} ${l.text}`)))
  }
  const schedule = frameScheduler(paint)
  demo.onChange(schedule)
  setInterval(() => { if (root.offsetParent !== null) schedule() }, 500)
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

  const paintChart = frameScheduler(() => {
    const canvas = blank(chart)
    if (canvas === undefined) return
    const { ctx, w, hgt } = canvas
    const maxTx = Math.max(100, ...samples.map(s => s.txps))
    const maxLat = Math.max(500, ...samples.map(s => s.p50 ?? 0))
    const bw = (w - 50) / 90
    ctx.font = '11px system-ui'
    ctx.fillStyle = '#888'
    ctx.fillText(`${maxTx} tx/s`, 4, 12)
    ctx.fillText(`${Math.round(maxLat)} ms`, w - 48, 12)
    samples.forEach((s, i) => {
      const bh = (hgt - 24) * s.txps / maxTx
      ctx.fillStyle = '#2d6cdf'
      ctx.fillRect(40 + i * bw, hgt - 4 - bh, Math.max(1, bw - 1), bh)
    })
    ctx.strokeStyle = '#d64545'
    ctx.lineWidth = 1.5
    ctx.beginPath()
    let started = false
    samples.forEach((s, i) => {
      if (s.p50 === undefined) return
      const px = 40 + i * bw + bw / 2
      const py = hgt - 4 - (hgt - 24) * s.p50 / maxLat
      if (!started) { ctx.moveTo(px, py); started = true } else ctx.lineTo(px, py)
    })
    ctx.stroke()
  })

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
