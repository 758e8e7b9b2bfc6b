import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config/index.ts'
import { caConfigFileFor, configFileFor, loadNodeConfig } from '../../node/config.ts'
import { loadCaConfig } from '../../src/ca/config.ts'

const dir = await mkdtemp(join(tmpdir(), 'weft-config-'))
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

describe('loadNodeConfig', () => {
  it('reads the file, then the environment', async () => {
    const file = join(dir, 'core.yaml')
    await writeFile(file, 'peer:\n  id: vp3\nrest:\n  address: 127.0.0.1:7150\n')
    const c = await loadNodeConfig({ file, env: { CORE_REST_ADDRESS: '127.0.0.1:7250' }, chaincodeDevMode: true })
    expect(c.peer.id).toBe('vp3')
    expect(c.rest.address).toBe('127.0.0.1:7250')
    expect(c.chaincode.mode).toBe('dev')
  })

  it('names the file it cannot read or parse', async () => {
    await expect(loadNodeConfig({ file: join(dir, 'missing.yaml'), env: {} })).rejects.toThrow(ConfigError)
    await expect(loadNodeConfig({ file: join(dir, 'missing.yaml'), env: {} })).rejects.toThrow(/cannot read config file .*missing\.yaml/)
    const bad = join(dir, 'bad.yaml')
    await writeFile(bad, 'peer:\n  bogus: 1\n')
    await expect(loadNodeConfig({ file: bad, env: {} })).rejects.toThrow(`${bad}: unknown config key "peer.bogus"`)
  })

  it('uses process.env when no environment is given', async () => {
    process.env.CORE_PEER_NETWORKID = 'weft-test'
    try {
      expect((await loadNodeConfig()).peer.networkId).toBe('weft-test')
    } finally {
      delete process.env.CORE_PEER_NETWORKID
    }
  })
})

describe('configFileFor', () => {
  it('looks where Fabric looks: the file named, $PEER_CFG_PATH, ./core.yaml, then the shipped one', async () => {
    const cfgDir = await mkdtemp(join(dir, 'cfg-'))
    await writeFile(join(cfgDir, 'core.yaml'), 'peer:\n  id: vp9\n')
    expect(await configFileFor('x.yaml', { PEER_CFG_PATH: cfgDir })).toBe('x.yaml')
    expect(await configFileFor(undefined, { PEER_CFG_PATH: cfgDir })).toBe(join(cfgDir, 'core.yaml'))
    // The tests run in the clone, whose ./core.yaml is also the one shipped.
    expect(await configFileFor(undefined, { PEER_CFG_PATH: join(dir, 'missing') })).toBe('core.yaml')
    expect(await configFileFor(undefined, {})).toBe('core.yaml')
  })
})

describe('caConfigFileFor', () => {
  it('looks where Fabric\'s membersrvc looks: the file named, ./membersrvc.yaml, then the shipped one (loopback, data in ./data)', async () => {
    expect(await caConfigFileFor('x.yaml')).toBe('x.yaml')
    // The tests run in the clone, whose ./membersrvc.yaml is also the one shipped.
    const found = await caConfigFileFor()
    expect(found).toBe('membersrvc.yaml')
    const config = loadCaConfig({ yaml: await readFile(found!, 'utf8') })
    expect([config.server.rootpath, config.server.cadir, config.server.port]).toEqual(['./data', '.membersrvc', '127.0.0.1:7054'])
    expect(config.eca.users.jim).toBe('1 6avZQLwcUe9b bank_a')
  })
})
