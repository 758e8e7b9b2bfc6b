// Logs view: the core's log lines, newest first, and the levels that decide which are made
// (Fabric's logging spec, kept in this browser).
import { applyLogSpec, logLines, logSpec, onLog } from '../app/logs.ts'
import { fill, frameScheduler, h } from './dom.ts'

export function mountLogsView (root: HTMLElement): void {
  const spec = h('input', { class: 'mono log-spec', value: logSpec(), spellcheck: 'false', 'aria-label': 'logging spec', placeholder: 'info' })
  const said = h('p', { class: 'muted spec-result' })
  const form = h('form', { class: 'row' }, h('label', {}, 'levels'), spec, h('button', { class: 'btn primary', type: 'submit' }, 'Apply'))
  form.addEventListener('submit', ev => {
    ev.preventDefault()
    const parsed = applyLogSpec(spec.value)
    spec.value = logSpec()
    const modules = Object.entries(parsed.modules).map(([m, l]) => `${m} ${l}`)
    said.textContent = [`Applied: ${parsed.defaultLevel} for all${modules.length > 0 ? `, ${modules.join(', ')}` : ''}.`, ...parsed.ignored].join(' ')
    said.classList.toggle('err-text', parsed.ignored.length > 0)
  })
  const filter = h('input', { type: 'search', placeholder: 'filter: module or text', 'aria-label': 'filter the log' })
  const modules = h('p', { class: 'muted' })
  const log = h('div', { class: 'log' })
  root.append(
    h('div', { class: 'panel' }, h('h2', {}, 'Log levels', h('small', {}, 'Fabric\'s logging spec, kept in this browser')),
      form, said,
      h('p', { class: 'muted' }, 'A default level and module=level overrides separated by ":", e.g. ', h('code', {}, 'warning:consensus/pbft,peer=debug'),
        '. A module covers those below it. Levels: critical, error, warning, notice, info, debug.'),
      modules),
    h('div', { class: 'panel' }, h('h2', {}, 'Log', h('small', {}, 'the last 300 lines, newest first')), h('div', { class: 'row' }, filter), log))

  const paint = frameScheduler(() => {
    if (root.offsetParent === null) return
    const f = filter.value.trim().toLowerCase()
    const lines = logLines.filter(l => f === '' || `${l.name} ${l.msg}`.toLowerCase().includes(f))
    fill(log, lines.reverse().map(l => h('div', { class: l.level, 'data-module': l.name },
      `${new Date(l.time).toLocaleTimeString()} ${l.level.toUpperCase()} [${l.name}] ${l.msg}`)))
    const seen = [...new Set(logLines.map(l => l.name))].sort()
    modules.textContent = seen.length === 0 ? '' : `Modules logged so far: ${seen.join(', ')}`
  })
  filter.addEventListener('input', paint)
  onLog(paint)
  new MutationObserver(() => { if (root.classList.contains('active')) paint() }).observe(root, { attributes: true, attributeFilter: ['class'] })
}
