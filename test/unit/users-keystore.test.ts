// A peer's users against Weft's membership services in memory: login enrolls once and keeps the
// keys, a refused login leaves nothing behind, TCerts come in batches and each is used once.
import { describe, expect, it } from 'vitest'
import { CaClient } from '../../src/crypto/fabric/ca-client.ts'
import { inProcessCaRpc } from '../../src/ca/membership.ts'
import { ecdsaVerify } from '../../src/crypto/fabric/ecdsa.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { parseCertificate } from '../../src/crypto/fabric/x509.ts'
import { toHex } from '../../src/crypto/bytes.ts'
import { caMembership } from '../../src/security/ca-membership.ts'
import { Keystore, type MembershipClient } from '../../src/security/keystore.ts'
import { Users } from '../../src/security/users.ts'
import { systemScheduler } from '../../src/util/scheduler.ts'
import { memoryMembershipServices, memoryRawStore } from '../helpers/secure-members.ts'

async function setup (batch: number): Promise<{ users: Users, calls: { enroll: number, batches: number }, raw: ReturnType<typeof memoryRawStore> }> {
  const ca = await memoryMembershipServices()
  const suite = cryptoSuite('SHA3', 256)
  const rpc = inProcessCaRpc(ca)
  const real = caMembership(new CaClient({ suite, rpc, now: () => systemScheduler.now() }))
  const calls = { enroll: 0, batches: 0 }
  const counted: MembershipClient = {
    enroll: async (id, secret) => { calls.enroll++; return await real.enroll(id, secret) },
    tcertBatch: async (id, key, n) => { calls.batches++; return await real.tcertBatch(id, key, n) },
    enrollmentCertificate: real.enrollmentCertificate
  }
  const raw = memoryRawStore()
  return { users: new Users(new Keystore(suite, raw, counted, batch)), calls, raw }
}

/** The same key files opened again with the CA gone, as a restarted peer whose CA is stopped. */
function restartedWithoutCa (raw: ReturnType<typeof memoryRawStore>): Users {
  const down = async (): Promise<never> => { throw new Error('14 UNAVAILABLE: No connection established') }
  return new Users(new Keystore(cryptoSuite('SHA3', 256), raw, { enroll: down, tcertBatch: down, enrollmentCertificate: down }, 3))
}

describe('users', () => {
  it('enroll once: a second login does not ask the CA, and does not check the secret again (as Fabric)', async () => {
    const { users, calls, raw } = await setup(2)
    await users.login('jim', '6avZQLwcUe9b')
    await users.login('jim', 'anything')
    expect(calls.enroll).toBe(1)
    for (const alias of ['enrollment.key', 'enrollment.cert', 'enrollment.id', 'eca.cert.chain', 'tca.cert.chain']) {
      expect(await raw.read('client', 'jim', alias)).toBeDefined()
    }
    expect(parseCertificate((await users.member('jim')).enrollment.cert).subject.commonName).toMatch(/^jim\\/)
  })

  it('a refused login leaves no keys, and the right secret still works', async () => {
    const { users } = await setup(2)
    await expect(users.login('alice', 'wrong')).rejects.toThrow(/Identity or token does not match/)
    expect(await users.isEnrolled('alice')).toBe(false)
    await expect(users.member('alice')).rejects.toThrow('open /mem/crypto/client/alice/ks/raw/eca.cert.chain: no such file or directory')
    await users.login('alice', 'CMS10pEQlB16')
    expect(await users.isEnrolled('alice')).toBe(true)
  })

  it('take each TCert once, fetching a new batch when the last is used', async () => {
    const { users, calls } = await setup(2)
    await users.login('jim', '6avZQLwcUe9b')
    const member = await users.member('jim')
    const certs = [await member.nextTCert(), await member.nextTCert(), await member.nextTCert()]
    expect(calls.batches).toBe(2)
    expect(new Set(certs.map(c => toHex(c.cert))).size).toBe(3)
    await users.remove('jim')
    expect(await users.isEnrolled('jim')).toBe(false)
    await expect(users.member('jim')).rejects.toThrow(/no such file or directory/)
  })

  it('unused TCerts are kept in the keystore: after a restart they sign without the TCA, none used twice', async () => {
    const { users, calls, raw } = await setup(3)
    await users.login('jim', '6avZQLwcUe9b')
    const first = await (await users.member('jim')).nextTCert()
    expect(calls.batches).toBe(1)

    const member = await restartedWithoutCa(raw).member('jim')
    const [second, third] = [await member.nextTCert(), await member.nextTCert()]
    const message = new TextEncoder().encode('after a restart')
    const suite = cryptoSuite('SHA3', 256)
    for (const tcert of [second, third]) {
      expect(ecdsaVerify(suite, parseCertificate(tcert.cert).publicKey, message, tcert.sign(message))).toBe(true)
    }
    expect(new Set([first, second, third].map(c => toHex(c.cert))).size).toBe(3)
    // The batch is spent and the TCA cannot be reached: the next one fails with why.
    await expect(member.nextTCert()).rejects.toThrow(/UNAVAILABLE/)
    expect(calls.batches).toBe(1)
  })
})
