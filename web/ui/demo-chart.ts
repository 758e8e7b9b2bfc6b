// The demo's throughput chart as SVG (its axes are text a test and a screen reader can read):
// committed tx/s as bars on the left axis, p50 latency in ms as a line on the right one, over
// the last WINDOW_S seconds, labelled in seconds ago with the clock time of "now".
import type { LoadSample } from '../demo/load.ts'

const NS = 'http://www.w3.org/2000/svg'
export const WINDOW_S = 90
const HEIGHT = 200
const PAD = { left: 52, right: 56, top: 14, bottom: 36 }

function el (tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(NS, tag)
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v))
  if (text !== undefined) e.textContent = text
  return e
}

/** Round ticks from 0 to at least `max`: steps of 1, 2 or 5 × 10^k, about four of them. */
export function ticks (max: number, count = 4): number[] {
  const raw = Math.max(max, 1) / count
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map(m => m * mag).find(s => s >= raw) ?? 10 * mag
  const out: number[] = []
  for (let v = 0; v < max + step; v += step) out.push(v)
  return out
}

/** Draws `samples` (one a second, oldest first) into `svg`, as wide as its box; `now` in ms since the epoch. */
export function paintThroughput (svg: SVGSVGElement, samples: LoadSample[], now: number): void {
  const w = Math.max(320, svg.clientWidth || svg.parentElement?.clientWidth || 600)
  svg.setAttribute('viewBox', `0 0 ${w} ${HEIGHT}`)
  svg.setAttribute('height', String(HEIGHT))
  const plotW = w - PAD.left - PAD.right
  const plotH = HEIGHT - PAD.top - PAD.bottom
  const shown = samples.filter(s => now - s.time <= WINDOW_S * 1000)
  const txTicks = ticks(Math.max(10, ...shown.map(s => s.txps)))
  const latTicks = ticks(Math.max(100, ...shown.map(s => s.p50 ?? 0)))
  const maxTx = txTicks.at(-1)!
  const maxLat = latTicks.at(-1)!
  const x = (t: number): number => PAD.left + plotW * (1 - (now - t) / (WINDOW_S * 1000))
  const yTx = (v: number): number => PAD.top + plotH * (1 - v / maxTx)
  const yLat = (v: number): number => PAD.top + plotH * (1 - v / maxLat)
  const parts: SVGElement[] = []

  const grid = el('g', { class: 'grid' })
  const left = el('g', { class: 'axis y-axis', 'data-unit': 'tx/s' })
  for (const v of txTicks) {
    grid.append(el('line', { x1: PAD.left, x2: PAD.left + plotW, y1: yTx(v), y2: yTx(v) }))
    left.append(el('text', { x: PAD.left - 6, y: yTx(v) + 4, 'text-anchor': 'end' }, String(v)))
  }
  left.append(el('text', { class: 'title', x: 12, y: PAD.top + plotH / 2, transform: `rotate(-90 12 ${PAD.top + plotH / 2})`, 'text-anchor': 'middle' }, 'committed tx/s'))
  const right = el('g', { class: 'axis y2-axis', 'data-unit': 'ms' })
  for (const v of latTicks) right.append(el('text', { x: PAD.left + plotW + 6, y: yLat(v) + 4 }, String(v)))
  right.append(el('text', { class: 'title', x: w - 8, y: PAD.top + plotH / 2, transform: `rotate(90 ${w - 8} ${PAD.top + plotH / 2})`, 'text-anchor': 'middle' }, 'p50 latency (ms)'))
  const bottom = el('g', { class: 'axis x-axis', 'data-unit': 's' })
  for (let s = WINDOW_S; s >= 0; s -= 15) {
    const px = x(now - s * 1000)
    grid.append(el('line', { x1: px, x2: px, y1: PAD.top, y2: PAD.top + plotH }))
    bottom.append(el('text', { x: px, y: PAD.top + plotH + 14, 'text-anchor': s === 0 ? 'end' : 'middle' }, s === 0 ? 'now' : `−${s} s`))
  }
  const clock = new Date(now).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
  bottom.append(el('text', { class: 'title', x: PAD.left + plotW / 2, y: HEIGHT - 4, 'text-anchor': 'middle' }, `seconds ago (now = ${clock})`))
  parts.push(grid, left, right, bottom)

  const bw = Math.max(1, plotW / WINDOW_S - 1)
  const bars = el('g', { class: 'bars' })
  for (const s of shown) bars.append(el('rect', { x: x(s.time) - bw, y: yTx(s.txps), width: bw, height: PAD.top + plotH - yTx(s.txps) }))
  parts.push(bars)
  const points = shown.filter(s => s.p50 !== undefined).map(s => `${(x(s.time) - bw / 2).toFixed(1)},${yLat(s.p50!).toFixed(1)}`)
  if (points.length > 0) parts.push(el('polyline', { class: 'latency', points: points.join(' ') }))
  parts.push(el('line', { class: 'frame', x1: PAD.left, x2: PAD.left + plotW, y1: PAD.top + plotH, y2: PAD.top + plotH }))
  if (shown.length === 0) parts.push(el('text', { class: 'empty', x: PAD.left + plotW / 2, y: PAD.top + plotH / 2, 'text-anchor': 'middle' }, 'start the load to see committed tx/s'))
  svg.replaceChildren(...parts)
}
