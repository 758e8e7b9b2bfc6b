import { describe, expect, it } from 'vitest'
import { loadCaConfig } from '../../src/ca/config.ts'
import { ConfigError } from '../../src/config/load.ts'
import { affiliationGroups, parseUserEntry, populate, registerUser } from '../../src/ca/users.ts'
import { CaStore } from '../../src/ca/store.ts'
import { memoryStore } from '../../src/storage/memory.ts'

const random = (n: number): Uint8Array => new Uint8Array(n).map((_, i) => i * 7)

describe('membersrvc.yaml', () => {
  it('has Fabric\'s values and takes MEMBERSRVC_CA_* overrides as viper does', () => {
    const config = loadCaConfig({ env: { MEMBERSRVC_CA_SERVER_PORT: '127.0.0.1:18054', MEMBERSRVC_CA_SECURITY_LEVEL: '384', MEMBERSRVC_CA_SECURITY_TLS_ENABLED: 'true' } })
    expect(config.server.port).toBe('127.0.0.1:18054')
    expect(config.server.cadir).toBe('.membersrvc')
    expect(config.security.level).toBe(384)
    expect(config.security.tls_enabled).toBe(true)
    expect(config.pki.ca.subject.organization).toBe('Hyperledger')
    expect(Object.keys(config.eca.users)).toContain('WebAppAdmin')
  })

  it('reads a users table and affiliations from YAML, replacing Fabric\'s', () => {
    const yaml = `
eca:
  affiliations:
    org:
      dept:
        - team_a
  users:
    carol: 1 s3cret team_a
    vp0: 4 vp0_secret
`
    const config = loadCaConfig({ yaml })
    expect(config.eca.users).toEqual({ carol: '1 s3cret team_a', vp0: '4 vp0_secret' })
    expect(affiliationGroups(config.eca.affiliations)).toEqual([
      { name: 'org', parent: '' }, { name: 'dept', parent: 'org' }, { name: 'team_a', parent: 'dept' }
    ])
  })

  it('refuses a security level or hash Fabric does not have, and unknown keys', () => {
    expect(() => loadCaConfig({ env: { MEMBERSRVC_CA_SECURITY_LEVEL: '512' } })).toThrow(ConfigError)
    expect(() => loadCaConfig({ env: { MEMBERSRVC_CA_SECURITY_HASHALGORITHM: 'MD5' } })).toThrow(ConfigError)
    expect(() => loadCaConfig({ yaml: 'server:\n  prot: 1\n' })).toThrow(/server.prot/)
  })
})

describe('users table', () => {
  it('parses Fabric\'s line format, metadata in quotes', () => {
    const admin = parseUserEntry('admin', `1 Xurw3yU9zI0l institution_a '{"registrar":{"roles":["client"]}}'`)
    expect(admin).toMatchObject({ role: 1, secret: 'Xurw3yU9zI0l', affiliation: 'institution_a', metadata: `'{"registrar":{"roles":["client"]}}'` })
    expect(() => parseUserEntry('x', 'client secret')).toThrow(/eca.users.x/)
  })

  it('registers members with id\\affiliation enrollment ids, validators without, and keeps state across restarts', async () => {
    const kv = await memoryStore()
    const config = loadCaConfig()
    const store = await CaStore.open(kv)
    await populate(store, config.eca.affiliations, config.eca.users, random)
    expect(await store.user('lukas')).toMatchObject({ enrollmentId: 'lukas\\bank_a', role: 1, state: 0 })
    expect(await store.user('vp')).toMatchObject({ enrollmentId: '', role: 4 })
    expect((await store.user('admin'))!.metadata).toBe('{"registrar":{"roles":["client","peer","validator","auditor"],"delegateRoles":["client"]}}')
    await store.mutate(async batch => { batch.putUser({ ...(await store.user('lukas'))!, state: 2 }) })
    const again = await CaStore.open(kv)
    await populate(again, config.eca.affiliations, config.eca.users, random)
    expect((await again.user('lukas'))!.state).toBe(2)
  })

  it('lets a registrar register only the roles and delegate roles it holds', async () => {
    const store = await CaStore.open(await memoryStore())
    const config = loadCaConfig()
    await populate(store, config.eca.affiliations, config.eca.users, random)
    const reg = (id: string, role: number, registrar: string, metadata = '') => registerUser(store, { id, role, affiliation: 'bank_a', metadata, registrar }, random)
    await expect(reg('u1', 1, 'WebAppAdmin')).resolves.toMatch(/^[A-Za-z]{12}$/)
    await expect(reg('u2', 2, 'WebAppAdmin')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
    await expect(reg('u3', 1, 'WebAppAdmin', '{"registrar":{"roles":["client"]}}')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
    await expect(reg('u4', 1, 'admin', '{"registrar":{"roles":["client"]}}')).resolves.toBeTypeOf('string')
    await expect(reg('u5', 1, 'lukas')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
    await expect(reg('u1', 1, 'admin')).rejects.toMatchObject({ code: 'ALREADY_EXISTS' })
    await expect(registerUser(store, { id: 'u6', role: 1, affiliation: 'bank_z', metadata: '', registrar: 'admin' }, random)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    for (const id of ['u2', 'u3', 'u5', 'u6']) expect(await store.user(id)).toBeUndefined()
  })
})
