// A few lines instead of a UI framework: element builder, text helpers, and a scheduler that
// coalesces repaints into one per animation frame.

type Child = Node | string | number | null | undefined | false
type Attrs = Record<string, string | number | boolean | undefined | null | EventListener>

/** h('button', { class: 'x', onclick: fn }, 'Label') */
export function h<K extends keyof HTMLElementTagNameMap> (tag: K, attrs: Attrs = {}, ...children: Array<Child | Child[]>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v)
    else if (k === 'class') el.className = String(v)
    else if (v === true) el.setAttribute(k, '')
    else el.setAttribute(k, String(v))
  }
  append(el, children)
  return el
}

export function append (el: Node, children: Array<Child | Child[]>): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue
    el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)))
  }
}

/** Replaces the children of `el`. */
export function fill (el: Element, ...children: Array<Child | Child[]>): void {
  el.replaceChildren()
  append(el, children)
}

/** Calls `paint` at most once per animation frame however often it is requested (and not at all while hidden). */
export function frameScheduler (paint: () => void): () => void {
  let queued = false
  return () => {
    if (queued) return
    queued = true
    const run = (): void => { queued = false; paint() }
    if (typeof requestAnimationFrame === 'function' && !document.hidden) requestAnimationFrame(run)
    else setTimeout(run, 250)
  }
}

export function ago (ms: number): string {
  if (ms < 1000) return 'now'
  if (ms < 60_000) return `${Math.round(ms / 1000)} s ago`
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`
  return `${Math.round(ms / 3_600_000)} h ago`
}

export function bytes (n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`
  return `${(n / 1024 ** 3).toFixed(2)} GB`
}

/** Arguments typed by a person: a JSON array, or words separated by spaces ("quoted words" allowed). */
export function parseArgs (text: string): string[] {
  const t = text.trim()
  if (t === '') return []
  if (t.startsWith('[')) {
    const v: unknown = JSON.parse(t)
    if (!Array.isArray(v)) throw new Error('arguments: expected a JSON array of strings')
    return v.map(x => String(x))
  }
  const out: string[] = []
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g
  let m
  while ((m = re.exec(t)) !== null) out.push(m[1] !== undefined ? JSON.parse(`"${m[1]}"`) as string : m[2] ?? m[3])
  return out
}
