// Which network the tab joins, from the page URL or from the Node peer that served the page:
//   ?bootstrap=<multiaddr>[,<multiaddr>…]  dial these (WS multiaddrs ending in /p2p/<id>)
//   ?peer=http://host:7080                 read that Node peer's /weft/bootstrap.json
//   (neither)                              read /weft/bootstrap.json of the serving origin
//   ?network=dev  ?consensus=noops|pbft  ?validators=vp0:<peerId>,vp1:<peerId>
//   ?buckets=1000003&grouping=5            the network's bucket tree (with ?bootstrap=)
//   ?offline                               no network peer (the demo network still works)
//   ?slot=N                                use browser peer slot N (see identity.ts)
//   ?log=SPEC                              log levels for this load (Fabric's spec; see logs.ts)
import type { BootstrapInfo } from './bootstrap-info.ts'

export type { BootstrapInfo }

export interface ResolvedBootstrap {
  info?: BootstrapInfo
  /** Where it came from, for messages. */
  source: string
  /** Set when the bootstrap could not be read: the page still runs (offline). */
  error?: string
}

export const FABRIC_LEDGER = { stateStructure: 'buckettree', numBuckets: 1000003, maxGroupingAtEachLevel: 5 }

function parseValidators (v: string | null): BootstrapInfo['validators'] {
  if (v === null || v.trim() === '') return undefined
  return v.split(',').map(s => s.trim()).filter(Boolean).map(s => {
    const [name, peerId] = s.split(':')
    return peerId === undefined || peerId === '' ? { name } : { name, peerId }
  })
}

export async function resolveBootstrap (location: Location | URL = globalThis.location): Promise<ResolvedBootstrap> {
  const q = new URL(location.href).searchParams
  if (q.has('offline')) return { source: 'offline (?offline)' }
  const listed = q.get('bootstrap')
  if (listed !== null && listed.trim() !== '') {
    const multiaddrs = listed.split(',').map(s => s.trim()).filter(Boolean)
    const peerId = /\/p2p\/([^/]+)$/.exec(multiaddrs[0])?.[1] ?? ''
    return {
      source: '?bootstrap',
      info: {
        peerId,
        name: q.get('name') ?? '',
        multiaddrs,
        networkId: q.get('network') ?? 'dev',
        consensus: q.get('consensus') ?? 'noops',
        securityEnabled: q.get('security') === 'true',
        ledger: {
          stateStructure: q.get('state') ?? FABRIC_LEDGER.stateStructure,
          numBuckets: Number(q.get('buckets') ?? FABRIC_LEDGER.numBuckets),
          maxGroupingAtEachLevel: Number(q.get('grouping') ?? FABRIC_LEDGER.maxGroupingAtEachLevel)
        },
        validators: parseValidators(q.get('validators'))
      }
    }
  }
  const base = q.get('peer') ?? location.origin
  const url = new URL('/weft/bootstrap.json', base).toString()
  let info: BootstrapInfo
  try {
    const res = await fetch(url, { cache: 'no-store', signal: AbortSignal.timeout(5000) })
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    info = await res.json() as BootstrapInfo
    if (!Array.isArray(info.multiaddrs) || typeof info.peerId !== 'string') throw new Error('not a Weft bootstrap document')
  } catch (err) {
    return { source: url, error: `Peer unreachable: cannot read ${url} (${(err as Error).message}). Is a Weft Node peer (weft node start) serving this page? Open the page with ?bootstrap=<multiaddr> to join another peer, or use the demo network offline.` }
  }
  const extra = parseValidators(q.get('validators'))
  if (extra !== undefined) info.validators = extra
  if (q.get('consensus') !== null) info.consensus = q.get('consensus')!
  return { source: url, info }
}

/** The multiaddrs to try, those whose host is the page's own first. */
export function preferredMultiaddrs (info: BootstrapInfo, hostname = globalThis.location?.hostname ?? ''): string[] {
  const host = hostname.replace(/^\[|\]$/g, '')
  const score = (m: string): number => m.includes(`/${host}/`) ? 0 : /\/(127\.0\.0\.1|::1|localhost)\//.test(m) ? 1 : 2
  return [...info.multiaddrs].sort((a, b) => score(a) - score(b))
}
