import type { Notices } from '../app/notices.ts'
import { fill, h } from './dom.ts'

export function mountNotices (root: HTMLElement, notices: Notices): void {
  const paint = (): void => {
    fill(root, notices.all().map(n => h('div', { class: `notice ${n.level}`, role: n.level === 'error' ? 'alert' : 'status' },
      h('span', {}, n.text),
      h('button', { class: 'btn', onclick: () => notices.clear(n.key), title: 'dismiss' }, '×'))))
  }
  notices.onChange(paint)
  paint()
}
