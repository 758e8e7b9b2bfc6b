import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, withOverrides, type ConfigOverrides } from '../../src/config/index.ts'

describe('typed config overrides', () => {
  it('set keys by type (durations in ms, lists whole), leave the rest and the given config alone', () => {
    const base = loadConfig({ env: { CORE_PEER_ID: 'vp9', CORE_PEER_LIBP2P_LISTEN: '/ip4/127.0.0.1/tcp/1' } })
    const c = withOverrides(base, {
      peer: { discovery: { period: 2000, rootnode: 'vp0' }, validator: { consensus: { plugin: 'pbft' } }, libp2p: { listen: ['/ip4/127.0.0.1/tcp/2'] } },
      pbft: { general: { N: 7, timeout: { batch: 200 } } },
      rest: { enabled: false }
    })
    expect(c.peer.discovery.period).toBe(2000)
    expect(c.peer.discovery.rootnode).toBe('vp0')
    expect(c.peer.validator.consensus.plugin).toBe('pbft')
    expect(c.peer.libp2p.listen).toEqual(['/ip4/127.0.0.1/tcp/2'])
    expect([c.pbft.general.N, c.pbft.general.f, c.pbft.general.timeout.batch, c.pbft.general.timeout.request]).toEqual([7, 1, 200, 2000])
    expect(c.rest.enabled).toBe(false)
    expect(c.peer.id).toBe('vp9')
    expect(c.peer.discovery.touchPeriod).toBe(base.peer.discovery.touchPeriod)
    expect([base.peer.discovery.period, base.peer.libp2p.listen, base.rest.enabled]).toEqual([5000, ['/ip4/127.0.0.1/tcp/1'], true])
  })

  it('are checked as the YAML and environment are: a bad one is a ConfigError naming the key', () => {
    const base = loadConfig()
    const bad = (o: unknown): void => { withOverrides(base, o as ConfigOverrides) }
    const cases: Array<[unknown, string]> = [
      [{ peer: { sync: { blocks: { channelSize: 0 } } } }, 'override of "peer.sync.blocks.channelSize": must be at least 1, got 0'],
      [{ peer: { validator: { consensus: { plugin: 'raft' } } } }, 'override of "peer.validator.consensus.plugin": "raft" is not one of noops, pbft'],
      [{ pbft: { general: { timeout: { nullrequest: 'soon' } } } }, 'override of "pbft.general.timeout.nullrequest": expected a duration in milliseconds, got "soon"'],
      [{ peer: { discovery: { period: Number.NaN } } }, 'override of "peer.discovery.period": expected a duration in milliseconds, got NaN'],
      [{ rest: { enabled: 'false' } }, 'override of "rest.enabled": expected a bool, got "false"'],
      [{ pbft: { general: { N: 4.5 } } }, 'override of "pbft.general.N": expected an integer, got 4.5'],
      [{ peer: { libp2p: { listen: '/ip4/1.2.3.4/tcp/1' } } }, 'override of "peer.libp2p.listen": expected a list, got "/ip4/1.2.3.4/tcp/1"'],
      [{ peer: { nickname: 'x' } }, 'override of unknown config key "peer.nickname"'],
      [{ peer: { discovery: 'vp0' } }, 'override of "peer.discovery" must be a map of settings'],
      [{ security: { privacy: true } }, 'Privacy cannot be enabled as requested because security is disabled']
    ]
    for (const [o, message] of cases) {
      let err: unknown
      try { bad(o) } catch (e) { err = e }
      expect([JSON.stringify(o), err instanceof ConfigError, (err as Error | undefined)?.message]).toEqual([JSON.stringify(o), true, message])
    }
  })
})
