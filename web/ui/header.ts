// The top bar: who this peer is (id, role, name), its chain (height, head, state hash), its
// links, the storage it may use and whether the tab is hidden.
import { short } from '../app/chain.ts'
import type { AppState } from '../app/weft-api.ts'
import { bytes, frameScheduler, h, fill } from './dom.ts'

export interface StorageInfo { persisted: boolean, usage?: number, quota?: number }

export function mountHeader (root: HTMLElement, state: AppState, storage: () => StorageInfo | undefined): () => void {
  const kv = (label: string, value: string | Node, title?: string): HTMLElement =>
    h('div', { class: 'kv', title }, h('span', { class: 'k' }, label), h('span', { class: 'v' }, value))
  const paint = (): void => {
    const p = state.peer
    const head = p?.head
    const conns = p?.connections() ?? []
    const up = conns.filter(c => c.state === 'established')
    const byT = (t: string): number => up.filter(c => c.transport === t).length
    const st = storage()
    const role = p === undefined || state.bootstrap.info === undefined ? 'offline' : p.role
    fill(root,
      h('div', { class: 'brand' }, 'Weft', h('small', {}, 'Fabric 0.6.1 peer in a tab')),
      kv('peer id', p === undefined ? (state.error !== undefined ? 'not started' : 'starting…') : short(p.peerId, 18), p?.peerId),
      kv('role', h('span', { class: `badge ${role}` }, p === undefined ? 'offline' : `${role} · ${p.name}`)),
      kv('height', String(head?.height ?? 0)),
      kv('head', short(head?.currentBlockHash ?? '', 14), head?.currentBlockHash),
      kv('state hash', short(head?.stateHash ?? '', 14) || '—', head?.stateHash),
      kv('peers', `${up.length} (${byT('ws')} ws · ${byT('webrtc')} webrtc · ${byT('relayed')} relayed)`),
      kv('storage', st === undefined ? '…' : `${st.persisted ? 'persistent' : 'best-effort'}${st.usage !== undefined ? ` · ${bytes(st.usage)}` : ''}${st.quota !== undefined ? ` of ${bytes(st.quota)}` : ''}`),
      kv('tab', state.scheduler.hidden ? `hidden · timers ×${state.scheduler.scale}` : 'visible')
    )
  }
  const schedule = frameScheduler(paint)
  paint()
  return schedule
}
