// Fabric 0.6.1's tests of the PBFT config (pbft-core_test.go TestConfigSet and the env override
// tests) and the noops config, through the one path a peer takes: loadConfig, then consensusInit.
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, type LoadConfigOptions } from '../../src/config/index.ts'
import { consensusInit } from '../../src/consensus/core-config.ts'
import type { NoopsConfig } from '../../src/consensus/noops/config.ts'
import { allPbftExtensions, fabricRulesOnly, type PbftConfig } from '../../src/consensus/pbft/config.ts'
import { setLogLevel } from '../../src/util/logger.ts'

setLogLevel('silent')

const pbft = (options: LoadConfigOptions = {}): PbftConfig => consensusInit(loadConfig(options)).pbft!
const noops = (options: LoadConfigOptions = {}): NoopsConfig => consensusInit(loadConfig(options)).noops!
const env = (vars: Record<string, string | undefined>): LoadConfigOptions => ({ env: vars })

describe('PBFT config (Fabric TestConfigSet and the env override tests)', () => {
  it('TestConfigSet: every key of config.yaml has Fabric\'s default', () => {
    expect(pbft()).toEqual({
      mode: 'batch', N: 4, f: 1, K: 10, logMultiplier: 4, batchSize: 500, byzantine: false, viewChangePeriod: 0,
      timeouts: { batch: 1000, request: 2000, viewChange: 2000, resendViewChange: 2000, nullRequest: 0, broadcast: 1000 },
      executorQueueSize: 30,
      extensions: allPbftExtensions
    })
  })

  it('TestEnvOverride: CORE_PBFT_GENERAL_MODE is read, case-insensitively (and only batch mode exists)', () => {
    expect(() => loadConfig(env({ CORE_PBFT_GENERAL_MODE: 'overide_test' })))
      .toThrow(/CORE_PBFT_GENERAL_MODE \(key "pbft.general.mode"\): Invalid PBFT mode: overide_test/)
    expect(() => loadConfig(env({ CORE_PBFT_GENERAL_MODE: 'overide_test' }))).toThrow(ConfigError)
    expect(pbft(env({ CORE_PBFT_GENERAL_MODE: 'BATCH' })).mode).toBe('batch')
    expect(pbft({ yaml: 'pbft:\n  general:\n    mode: Batch\n' }).mode).toBe('batch')
  })

  it('TestIntEnvOverride: integers as Go\'s strconv.ParseInt(s, 0, 64) reads them', () => {
    const cases: Array<[string, string, keyof PbftConfig, number]> = [
      ['CORE_PBFT_GENERAL_N', '8', 'N', 8], ['CORE_PBFT_GENERAL_F', '2', 'f', 2], ['CORE_PBFT_GENERAL_K', '20', 'K', 20],
      ['CORE_PBFT_GENERAL_LOGMULTIPLIER', '6', 'logMultiplier', 6], ['CORE_PBFT_GENERAL_BATCHSIZE', '200', 'batchSize', 200],
      ['CORE_PBFT_GENERAL_VIEWCHANGEPERIOD', '5', 'viewChangePeriod', 5], ['CORE_PBFT_EXECUTOR_QUEUESIZE', '50', 'executorQueueSize', 50],
      ['CORE_PBFT_GENERAL_BATCHSIZE', '0x20', 'batchSize', 32], ['CORE_PBFT_GENERAL_BATCHSIZE', '010', 'batchSize', 8],
      ['CORE_PBFT_GENERAL_BATCHSIZE', '0o17', 'batchSize', 15], ['CORE_PBFT_GENERAL_BATCHSIZE', '0b11', 'batchSize', 3],
      ['CORE_PBFT_GENERAL_K', '+7', 'K', 7]
    ]
    for (const [name, value, key, expected] of cases) {
      const extra = name === 'CORE_PBFT_GENERAL_F' ? { CORE_PBFT_GENERAL_N: '7' } : {}
      expect(pbft(env({ [name]: value, ...extra }))[key]).toBe(expected)
    }
  })

  it('Weft key weft.disable switches PBFT extensions off by name, or all of them (Fabric\'s rules only)', () => {
    expect(pbft(env({ CORE_PBFT_WEFT_DISABLE: 'executeOnce, retransmit' })).extensions)
      .toEqual({ ...allPbftExtensions, executeOnce: false, retransmit: false })
    expect(pbft(env({ CORE_PBFT_WEFT_DISABLE: 'all' })).extensions).toEqual(fabricRulesOnly)
    expect(pbft({ yaml: 'pbft:\n  weft:\n    disable: [all]\n' }).extensions).toEqual(fabricRulesOnly)
    expect(pbft({ yaml: 'pbft:\n  weft:\n    disable: [viewSync, lateJoin]\n' }).extensions)
      .toEqual({ ...allPbftExtensions, viewSync: false, lateJoin: false })
    expect(() => loadConfig(env({ CORE_PBFT_WEFT_DISABLE: 'retransmit viewsync' })))
      .toThrow(/CORE_PBFT_WEFT_DISABLE \(key "pbft.weft.disable"\): "viewsync" is not one of all, retransmit/)
    expect(() => loadConfig({ yaml: 'pbft:\n  weft:\n    disable: [nosuch]\n', yamlSource: 'peer.yaml' }))
      .toThrow(/peer.yaml: key "pbft.weft.disable": "nosuch" is not one of/)
  })

  it('TestDurationEnvOverride: Go durations', () => {
    const t = pbft(env({
      CORE_PBFT_GENERAL_TIMEOUT_BATCH: '2s',
      CORE_PBFT_GENERAL_TIMEOUT_REQUEST: '4s',
      CORE_PBFT_GENERAL_TIMEOUT_VIEWCHANGE: '5s',
      CORE_PBFT_GENERAL_TIMEOUT_RESENDVIEWCHANGE: '200ms',
      CORE_PBFT_GENERAL_TIMEOUT_NULLREQUEST: '1m',
      CORE_PBFT_GENERAL_TIMEOUT_BROADCAST: '1m'
    })).timeouts
    expect(t).toEqual({ batch: 2000, request: 4000, viewChange: 5000, resendViewChange: 200, nullRequest: 60_000, broadcast: 60_000 })
    expect(pbft(env({ CORE_PBFT_GENERAL_TIMEOUT_REQUEST: '1m1.5s' })).timeouts.request).toBe(61_500)
    expect(pbft(env({ CORE_PBFT_GENERAL_TIMEOUT_NULLREQUEST: '0' })).timeouts.nullRequest).toBe(0)
  })

  it('TestBoolEnvOverride: byzantine as Go\'s strconv.ParseBool reads it', () => {
    for (const [v, expected] of [['false', false], ['0', false], ['f', false], ['FALSE', false], ['true', true], ['1', true], ['T', true], ['True', true]] as const) {
      expect(pbft(env({ CORE_PBFT_GENERAL_BYZANTINE: v })).byzantine).toBe(expected)
    }
    expect(() => loadConfig(env({ CORE_PBFT_GENERAL_BYZANTINE: 'yes' })))
      .toThrow(/CORE_PBFT_GENERAL_BYZANTINE \(key "pbft.general.byzantine"\): expected a boolean/)
  })

  it('file values sit under the environment; bad values are ConfigErrors naming key and source', () => {
    const yaml = 'pbft:\n  general:\n    "N": 7\n    f: 2\n    timeout:\n      request: 3s\n'
    expect(pbft({ yaml })).toMatchObject({ N: 7, f: 2, timeouts: { request: 3000 } })
    expect(pbft({ yaml, env: { CORE_PBFT_GENERAL_N: '10' } }).N).toBe(10)
    expect(() => loadConfig(env({ CORE_PBFT_GENERAL_N: 'four' }))).toThrow(/CORE_PBFT_GENERAL_N \(key "pbft.general.N"\): expected an integer/)
    expect(() => loadConfig({ yaml: 'pbft:\n  general:\n    timeout:\n      request: "500"\n', yamlSource: 'peer.yaml' }))
      .toThrow(/peer.yaml: key "pbft.general.timeout.request": duration 500 needs a unit/)
    expect(() => loadConfig(env({ CORE_PBFT_GENERAL_LOGMULTIPLIER: '1' }))).toThrow(/pbft.general.logmultiplier.*must be at least 2/)
    expect(() => loadConfig(env({ CORE_PBFT_GENERAL_TIMEOUT_BROADCAST: '-1s' }))).toThrow(/pbft.general.timeout.broadcast.*must not be negative/)
    // N and f together: checked when the engine's settings are made from the config.
    expect(() => pbft(env({ CORE_PBFT_GENERAL_N: '3' }))).toThrow(ConfigError)
    expect(() => pbft(env({ CORE_PBFT_GENERAL_N: '3' }))).toThrow(/pbft.general.N/)
  })

  it('a null request timeout that is not a duration is a ConfigError (Fabric turns it into 0)', () => {
    expect(() => loadConfig(env({ CORE_PBFT_GENERAL_TIMEOUT_NULLREQUEST: 'soon' })))
      .toThrow(/CORE_PBFT_GENERAL_TIMEOUT_NULLREQUEST \(key "pbft.general.timeout.nullrequest"\): invalid duration "soon"/)
    expect(() => loadConfig(env({ CORE_PBFT_GENERAL_TIMEOUT_NULLREQUEST: 'soon' }))).toThrow(ConfigError)
  })

  it('Fabric\'s timeout adjustments: request above batch, null request above request', () => {
    const t = pbft(env({ CORE_PBFT_GENERAL_TIMEOUT_BATCH: '2s', CORE_PBFT_GENERAL_TIMEOUT_NULLREQUEST: '1s' })).timeouts
    expect(t.request).toBe(3000)
    expect(t.nullRequest).toBe(4500)
  })
})

describe('noops config', () => {
  it('block.size and block.wait, a bare wait in seconds, and 0 for cut-when-idle', () => {
    expect(noops()).toMatchObject({ blockSize: 500, blockWaitMs: 1000 })
    expect(noops(env({ CORE_NOOPS_BLOCK_SIZE: '2', CORE_NOOPS_BLOCK_WAIT: '3' }))).toMatchObject({ blockSize: 2, blockWaitMs: 3000 })
    expect(noops({ yaml: 'noops:\n  block:\n    wait: 250ms\n' }).blockWaitMs).toBe(250)
    expect(noops(env({ CORE_NOOPS_BLOCK_WAIT: '0' })).blockWaitMs).toBe(0)
  })

  it('a queue of ten blocks\' worth, at least the default', () => {
    expect(noops(env({ CORE_NOOPS_BLOCK_SIZE: '2' })).queueLimit).toBe(5000)
    expect(noops(env({ CORE_NOOPS_BLOCK_SIZE: '1000' })).queueLimit).toBe(10_000)
  })

  it('refuses an empty block and a negative wait, naming key and source', () => {
    expect(() => loadConfig(env({ CORE_NOOPS_BLOCK_SIZE: '0' }))).toThrow(/CORE_NOOPS_BLOCK_SIZE \(key "noops.block.size"\): must be at least 1/)
    expect(() => loadConfig(env({ CORE_NOOPS_BLOCK_WAIT: '-1' }))).toThrow(/CORE_NOOPS_BLOCK_WAIT \(key "noops.block.wait"\): must not be negative/)
    expect(() => loadConfig({ yaml: 'noops:\n  block:\n    wait: -2s\n' })).toThrow(ConfigError)
  })
})
