import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ConfigError, configKeys, envName, loadConfig, parseGoDuration } from '../../src/config/index.ts'

const fabricYaml = readFileSync(new URL('./fixtures/fabric-core-0.6.1.yaml', import.meta.url), 'utf8')

describe('config defaults', () => {
  it('are the values of Fabric 0.6.1 core.yaml + noops/pbft config.yaml', () => {
    const fromFile = loadConfig({ yaml: fabricYaml })
    const defaults = loadConfig()
    // The one deliberate difference: Weft's metrics endpoint binds loopback by default.
    expect(defaults.peer.profile.listenAddress).toBe('127.0.0.1:6060')
    expect(fromFile.peer.profile.listenAddress).toBe('0.0.0.0:6060')
    fromFile.peer.profile.listenAddress = defaults.peer.profile.listenAddress
    expect(fromFile).toEqual(defaults)
  })

  it('holds the documented values', () => {
    const c = loadConfig()
    expect(c.peer.id).toBe('jdoe')
    expect(c.rest.address).toBe('0.0.0.0:7050')
    expect(c.peer.address).toBe('0.0.0.0:7051')
    expect(c.peer.validator.events).toEqual({ address: '0.0.0.0:7053', buffersize: 100, timeout: 10 })
    expect(c.peer.validator.consensus).toEqual({ plugin: 'noops', buffersize: 1000 })
    expect(c.peer.discovery.period).toBe(5000)
    expect(c.noops.block).toEqual({ size: 500, wait: 1000 })
    expect(c.pbft.general.N).toBe(4)
    expect(c.pbft.general.timeout.nullrequest).toBe(0)
    expect(c.ledger.state.dataStructure.configs).toEqual({ numBuckets: 1000003, maxGroupingAtEachLevel: 5, bucketCacheSize: 100 })
    expect(c.peer.libp2p).toEqual({ address: '0.0.0.0:7055', listen: [] })
    expect(c.web).toEqual({ enabled: true, address: '127.0.0.1:7080' })
    expect(c.security.confidentialityProtocolVersion).toBe('1.2')
  })

  it('gives every call its own copy', () => {
    const a = loadConfig()
    a.vm.docker.hostConfig.NetworkMode = 'bridge'
    a.peer.libp2p.listen.push('/ip4/127.0.0.1/tcp/0')
    const b = loadConfig()
    expect(b.vm.docker.hostConfig.NetworkMode).toBe('host')
    expect(b.peer.libp2p.listen).toEqual([])
  })
})

describe('CORE_* environment', () => {
  it('derives names as viper does', () => {
    const names = configKeys().map(envName)
    for (const n of ['CORE_PEER_ID', 'CORE_PEER_ADDRESS', 'CORE_PEER_LISTENADDRESS', 'CORE_REST_ADDRESS', 'CORE_PEER_VALIDATOR_EVENTS_ADDRESS',
      'CORE_PEER_FILESYSTEMPATH', 'CORE_PEER_VALIDATOR_ENABLED', 'CORE_PEER_VALIDATOR_CONSENSUS_PLUGIN', 'CORE_PEER_DISCOVERY_ROOTNODE',
      'CORE_SECURITY_ENABLED', 'CORE_NOOPS_BLOCK_SIZE', 'CORE_NOOPS_BLOCK_WAIT', 'CORE_PBFT_GENERAL_N', 'CORE_PEER_LIBP2P_ADDRESS',
      'CORE_WEB_ENABLED', 'CORE_WEB_ADDRESS', 'CORE_LOGGING_LEVEL']) {
      expect(names).toContain(n)
    }
  })

  it('overrides the file and parses like viper', () => {
    const c = loadConfig({
      yaml: 'peer:\n  id: fromfile\n  validator:\n    enabled: true\n',
      env: {
        CORE_PEER_ID: 'vp1',
        CORE_PEER_VALIDATOR_ENABLED: 'F',
        CORE_NOOPS_BLOCK_SIZE: '0x10',
        CORE_NOOPS_BLOCK_WAIT: '2',
        CORE_PBFT_GENERAL_N: '7',
        CORE_PBFT_GENERAL_TIMEOUT_REQUEST: '1m30s',
        CORE_PEER_VALIDATOR_CONSENSUS_PLUGIN: 'PBFT',
        CORE_PEER_LIBP2P_LISTEN: '/ip4/127.0.0.1/tcp/7056, /ip4/127.0.0.1/tcp/7057',
        CORE_PEER_DISCOVERY_PERIOD: '250ms',
        CORE_PEER_VALIDATOR_EVENTS_TIMEOUT: '-1',
        CORE_REST_ENABLED: '',
        UNRELATED: 'x'
      }
    })
    expect(c.peer.id).toBe('vp1')
    expect(c.peer.validator.enabled).toBe(false)
    expect(c.noops.block.size).toBe(16)
    expect(c.noops.block.wait).toBe(2000) // noops reads a bare number as seconds
    expect(c.pbft.general.N).toBe(7)
    expect(c.pbft.general.timeout.request).toBe(90_000)
    expect(c.peer.validator.consensus.plugin).toBe('pbft')
    expect(c.peer.libp2p.listen).toEqual(['/ip4/127.0.0.1/tcp/7056', '/ip4/127.0.0.1/tcp/7057'])
    expect(c.peer.discovery.period).toBe(250)
    expect(c.peer.validator.events.timeout).toBe(-1)
    expect(c.rest.enabled).toBe(true) // an empty variable is ignored
  })

  it('names the variable and key of a bad value', () => {
    expect(() => loadConfig({ env: { CORE_PEER_VALIDATOR_ENABLED: 'maybe' } }))
      .toThrow(/CORE_PEER_VALIDATOR_ENABLED \(key "peer.validator.enabled"\): expected a boolean/)
    expect(() => loadConfig({ env: { CORE_NOOPS_BLOCK_SIZE: '1.5' } })).toThrow(/CORE_NOOPS_BLOCK_SIZE.*expected an integer/)
    expect(() => loadConfig({ env: { CORE_NOOPS_BLOCK_SIZE: '0' } })).toThrow(/noops.block.size.*at least 1/)
    expect(() => loadConfig({ env: { CORE_PBFT_GENERAL_TIMEOUT_BATCH: '5' } })).toThrow(/pbft.general.timeout.batch.*needs a unit/)
    expect(() => loadConfig({ env: { CORE_PEER_DISCOVERY_PERIOD: '5 parsecs' } })).toThrow(/peer.discovery.period.*invalid duration/)
    expect(() => loadConfig({ env: { CORE_PEER_VALIDATOR_CONSENSUS_PLUGIN: 'raft' } })).toThrow(/consensus.plugin.*"raft" is not one of noops, pbft/)
    expect(() => loadConfig({ env: { CORE_CHAINCODE_MODE: 'docker' } })).toThrow(ConfigError)
  })
})

describe('YAML', () => {
  it('matches keys case-insensitively and keeps defaults for empty values', () => {
    const c = loadConfig({ yaml: 'PEER:\n  ID: abc\n  discovery:\n    rootnode:\n    PERIOD: 2m\npbft:\n  general:\n    "n": 10\n' })
    expect(c.peer.id).toBe('abc')
    expect(c.peer.discovery.rootnode).toBe('')
    expect(c.peer.discovery.period).toBe(120_000)
    expect(c.pbft.general.N).toBe(10)
  })

  it('refuses unknown keys, naming them', () => {
    expect(() => loadConfig({ yaml: 'peer:\n  validator:\n    enabeld: true\n', yamlSource: 'my.yaml' }))
      .toThrow('my.yaml: unknown config key "peer.validator.enabeld"')
    expect(() => loadConfig({ yaml: 'pbft:\n  general:\n    N: 4\n' })).toThrow(/"pbft.general.false".*quote the key/)
  })

  it('refuses malformed documents and values', () => {
    expect(() => loadConfig({ yaml: 'peer: [1, 2' })).toThrow(/not valid YAML/)
    expect(() => loadConfig({ yaml: '- a\n- b\n' })).toThrow(/map of settings at the top level/)
    expect(() => loadConfig({ yaml: 'peer: 5\n' })).toThrow(/key "peer" must be a map/)
    expect(() => loadConfig({ yaml: 'rest:\n  enabled: sometimes\n' })).toThrow(/key "rest.enabled": expected a boolean/)
    expect(() => loadConfig({ yaml: 'peer:\n  id: [a]\n' })).toThrow(/key "peer.id": expected a string/)
  })

  it('reads YAML 1.1 scalars as Go yaml.v2 does', () => {
    const c = loadConfig({ yaml: 'rest:\n  enabled: off\npeer:\n  id: 007\n  libp2p:\n    listen: [/ip4/127.0.0.1/tcp/1]\n' })
    expect(c.rest.enabled).toBe(false)
    expect(c.peer.id).toBe('7')
    expect(c.peer.libp2p.listen).toEqual(['/ip4/127.0.0.1/tcp/1'])
  })
})

describe('startup rules', () => {
  it('--peer-chaincodedev turns on validator and dev mode over everything, and keeps the configured plugin (as Fabric)', () => {
    const c = loadConfig({ env: { CORE_PEER_VALIDATOR_ENABLED: 'false', CORE_PEER_VALIDATOR_CONSENSUS_PLUGIN: 'pbft' }, chaincodeDevMode: true })
    expect(c.peer.validator.enabled).toBe(true)
    expect(c.peer.validator.consensus.plugin).toBe('pbft')
    expect(c.chaincode.mode).toBe('dev')
    expect(loadConfig({ chaincodeDevMode: true }).peer.validator.consensus.plugin).toBe('noops')
  })

  it('CORE_CHAINCODE_MODE=dev alone is dev mode too (how mixed PBFT networks run, as the real 0.6.1 peer does)', () => {
    const c = loadConfig({ env: { CORE_CHAINCODE_MODE: 'dev', CORE_PEER_VALIDATOR_CONSENSUS_PLUGIN: 'pbft' } })
    expect(c.chaincode.mode).toBe('dev')
    expect(c.peer.validator.enabled).toBe(true)
    expect(c.peer.validator.consensus.plugin).toBe('pbft')
  })

  it('privacy without security is fatal, with the seed message', () => {
    expect(() => loadConfig({ env: { CORE_SECURITY_PRIVACY: 'true' } }))
      .toThrow(new ConfigError('Privacy cannot be enabled as requested because security is disabled'))
    expect(loadConfig({ env: { CORE_SECURITY_PRIVACY: 'true', CORE_SECURITY_ENABLED: 'true' } }).security.privacy).toBe(true)
  })
})

describe('parseGoDuration', () => {
  it('reads Go duration strings', () => {
    expect(parseGoDuration('1s')).toBe(1000)
    expect(parseGoDuration('200ms')).toBe(200)
    expect(parseGoDuration('1h2m3.5s')).toBe(3_723_500)
    expect(parseGoDuration('1500us')).toBeCloseTo(1.5)
    expect(parseGoDuration('-2s')).toBe(-2000)
    expect(parseGoDuration('0')).toBe(0)
    for (const bad of ['', 's', '1', '1d', '1.2.3s', 'ms5']) expect(() => parseGoDuration(bad)).toThrow(/duration/)
  })
})
