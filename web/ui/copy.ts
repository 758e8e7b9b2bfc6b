// Copy buttons for hashes and txids. The clipboard API may be refused (no permission, an
// insecure origin, an unfocused tab): then the old execCommand way, and if that fails too the
// value is shown selected, for Ctrl+C.
import { h } from './dom.ts'

const SHOWN_MS = 1500

async function writeClipboard (text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    const area = h('textarea', { class: 'copy-fallback', readonly: true })
    area.value = text
    document.body.append(area)
    area.select()
    try { return document.execCommand('copy') } catch { return false } finally { area.remove() }
  }
}

/** A small button that copies `text`; data-copy says how it went ("copied" or "manual"). */
export function copyButton (text: string, what = 'value'): HTMLElement {
  const btn = h('button', { class: 'copy', type: 'button', title: `copy the ${what}`, 'aria-label': `copy the ${what}` }, 'copy')
  const wrap = h('span', { class: 'copy-wrap' }, btn)
  let timer: ReturnType<typeof setTimeout> | undefined
  btn.addEventListener('click', ev => {
    ev.preventDefault()
    ev.stopPropagation()
    void writeClipboard(text).then(ok => {
      clearTimeout(timer)
      wrap.querySelector('input')?.remove()
      btn.dataset.copy = ok ? 'copied' : 'manual'
      btn.textContent = ok ? 'copied' : 'press Ctrl+C'
      if (!ok) {
        const field = h('input', { class: 'copy-manual mono', readonly: true, value: text, 'aria-label': what })
        wrap.append(field)
        field.select()
      }
      timer = setTimeout(() => {
        delete btn.dataset.copy
        btn.textContent = 'copy'
        wrap.querySelector('input')?.remove()
      }, ok ? SHOWN_MS : 4 * SHOWN_MS)
    })
  })
  return wrap
}
