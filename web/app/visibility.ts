// Background tabs. Browsers throttle a hidden tab's timers (Chrome: to once a second, then to
// once a minute after five minutes), so a timer-driven protocol in a hidden tab sees time jump.
// Weft's rules in a tab:
//  - liveness is judged only from evidence (messages received; see ChatMeter.lastHeard),
//    never from a local timer having fired or not;
//  - while hidden, every timeout the peer arms (PBFT request / view-change timers, discovery
//    ticks) is stretched by `hiddenScale`, so a throttled tab does not mistake its own slowness
//    for a faulty primary and start view changes it cannot finish (no view-change storms);
//  - the tab keeps a WebRTC data channel open (a loopback pair when it has no WebRTC peer),
//    which keeps Chrome from applying intensive throttling or freezing it.
import { clampDelay, type Scheduler, type TimerHandle } from '../../src/util/scheduler.ts'

/** The tab's Scheduler: host time, and timers stretched by `hiddenScale` while the tab is hidden. */
export class VisibilityTimers implements Scheduler {
  private listeners = new Set<(hidden: boolean) => void>()
  hidden: boolean
  hiddenSince?: number

  constructor (readonly hiddenScale = 10, private readonly doc: Document | undefined = globalThis.document) {
    this.hidden = doc?.hidden ?? false
    doc?.addEventListener('visibilitychange', () => { this.update() })
  }

  /** Re-reads document.hidden (also called by the visibilitychange listener). */
  update (): void {
    const hidden = this.doc?.hidden ?? false
    if (hidden === this.hidden) return
    this.hidden = hidden
    this.hiddenSince = hidden ? Date.now() : undefined
    for (const l of this.listeners) l(hidden)
  }

  get scale (): number { return this.hidden ? this.hiddenScale : 1 }

  onChange (l: (hidden: boolean) => void): () => void {
    this.listeners.add(l)
    return () => this.listeners.delete(l)
  }

  now (): number { return Date.now() }

  schedule (delayMs: number, fn: () => void): TimerHandle {
    const t = globalThis.setTimeout(fn, clampDelay(delayMs * this.scale))
    return { cancel: () => { globalThis.clearTimeout(t) } }
  }
}

/**
 * Opens a loopback RTCPeerConnection pair with a data channel and keeps it open (host
 * candidates only, nothing leaves the machine). Resolves true once the channel is open.
 */
export async function keepDataChannelOpen (timeoutMs = 10_000): Promise<{ open: boolean, close: () => void }> {
  if (typeof RTCPeerConnection !== 'function') return { open: false, close: () => {} }
  const a = new RTCPeerConnection({ iceServers: [] })
  const b = new RTCPeerConnection({ iceServers: [] })
  const close = (): void => { a.close(); b.close() }
  a.onicecandidate = e => { if (e.candidate !== null) b.addIceCandidate(e.candidate).catch(() => {}) }
  b.onicecandidate = e => { if (e.candidate !== null) a.addIceCandidate(e.candidate).catch(() => {}) }
  const channel = a.createDataChannel('weft-keepalive')
  b.ondatachannel = e => { e.channel.onmessage = () => {} }
  const opened = new Promise<boolean>(resolve => {
    channel.onopen = () => resolve(true)
    setTimeout(() => resolve(false), timeoutMs)
  })
  try {
    await a.setLocalDescription(await a.createOffer())
    await b.setRemoteDescription(a.localDescription!)
    await b.setLocalDescription(await b.createAnswer())
    await a.setRemoteDescription(b.localDescription!)
  } catch {
    close()
    return { open: false, close: () => {} }
  }
  const open = await opened
  if (!open) { close(); return { open: false, close: () => {} } }
  // A byte now and then, so the channel is in use, not just open.
  const tick = setInterval(() => { if (channel.readyState === 'open') channel.send('.') }, 20_000)
  return { open, close: () => { clearInterval(tick); close() } }
}
