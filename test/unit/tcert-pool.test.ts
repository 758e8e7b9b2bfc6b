// A member's TCert pool against Weft's membership services in memory: the batch is written once
// when fetched and a count of those taken runs ahead of the hand-outs, so few writes, and no
// TCert is handed out twice across restarts, whatever write a crash interrupts.
import { describe, expect, it } from 'vitest'
import { CaClient } from '../../src/crypto/fabric/ca-client.ts'
import { inProcessCaRpc } from '../../src/ca/membership.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { toHex } from '../../src/crypto/bytes.ts'
import { caMembership } from '../../src/security/ca-membership.ts'
import { Keystore, type MembershipClient, type RawStore } from '../../src/security/keystore.ts'
import type { Member } from '../../src/security/member.ts'
import { systemScheduler } from '../../src/util/scheduler.ts'
import { memoryMembershipServices, memoryRawStore } from '../helpers/secure-members.ts'

interface Setup {
  /** jim, as a peer (re)started on the same key files opens him. */
  open: () => Promise<Member>
  /** Writes to jim's files by alias, and TCert batches fetched. */
  writes: Map<string, number>
  batches: () => number
  /** Makes the next write of `alias` fail, as a crash before it reaches the disk. */
  failNext: (alias: string) => void
  raw: RawStore
}

async function setup (batch: number): Promise<Setup> {
  const suite = cryptoSuite('SHA3', 256)
  const real = caMembership(new CaClient({ suite, rpc: inProcessCaRpc(await memoryMembershipServices()), now: () => systemScheduler.now() }))
  let batches = 0
  const client: MembershipClient = { ...real, tcertBatch: async (id, key, n) => { batches++; return await real.tcertBatch(id, key, n) } }
  const files = memoryRawStore()
  const writes = new Map<string, number>()
  const failing = new Set<string>()
  const raw: RawStore = {
    ...files,
    write: async (kind, name, alias, text) => {
      if (failing.delete(alias)) throw new Error(`EIO: write ${alias}`)
      writes.set(alias, (writes.get(alias) ?? 0) + 1)
      await files.write(kind, name, alias, text)
    }
  }
  await new Keystore(suite, raw, client, batch).enroll('client', 'jim', '6avZQLwcUe9b')
  writes.clear()
  return {
    open: async () => (await new Keystore(suite, raw, client, batch).open('client', 'jim'))!,
    writes,
    batches: () => batches,
    failNext: alias => { failing.add(alias) },
    raw
  }
}

async function take (member: Member, n: number): Promise<string[]> {
  const certs: string[] = []
  for (let i = 0; i < n; i++) certs.push(toHex((await member.nextTCert()).cert))
  return certs
}

describe('TCert pool', () => {
  it('writes each batch once and the taken count once per tenth of a batch, not the pool per TCert', async () => {
    const s = await setup(20)
    const certs = await take(await s.open(), 50)
    expect(new Set(certs).size).toBe(50)
    expect(s.batches()).toBe(3)
    expect(s.writes.get('tcerts.unused')).toBe(3)
    // 20 and 20 TCerts two at a time, then 10 of the third batch.
    expect(s.writes.get('tcerts.taken')).toBe(10 + 10 + 5)
    expect(await s.raw.read('client', 'jim', 'tcerts.taken')).toBe('10')
  })

  it('a restart mid-batch skips only what the count ran ahead, and reuses none', async () => {
    const s = await setup(20)
    const before = await take(await s.open(), 7)
    expect(await s.raw.read('client', 'jim', 'tcerts.taken')).toBe('8')
    const after = await take(await s.open(), 13)
    expect(new Set([...before, ...after]).size).toBe(20)
    // The 9th to the 20th of the first batch, then the second batch.
    expect(s.batches()).toBe(2)
  })

  it('no TCert is handed out before its count is written: a failed write hands out nothing, and a restart reuses none', async () => {
    // Mid-batch; and right after a new batch was written, which then counts as all taken (the old count, 4).
    for (const { before, batches } of [{ before: 1, batches: [1, 1] }, { before: 4, batches: [2, 3] }]) {
      const s = await setup(4)
      const member = await s.open()
      const first = await take(member, before)
      s.failNext('tcerts.taken')
      await expect(member.nextTCert()).rejects.toThrow(/EIO/)
      expect(s.batches()).toBe(batches[0])
      const after = await take(await s.open(), 2)
      expect(s.batches()).toBe(batches[1])
      expect(new Set([...first, ...after]).size).toBe(before + 2)
    }
  })

  it('a damaged count or batch file counts the whole batch as taken and fetches a new one', async () => {
    for (const alias of ['tcerts.taken', 'tcerts.unused']) {
      const s = await setup(4)
      const first = await take(await s.open(), 1)
      const batch = (await s.raw.read('client', 'jim', 'tcerts.unused'))!
      // A count that is no number; a batch cut short after its first certificate, without its key.
      const damaged = alias === 'tcerts.taken' ? 'x' : batch.slice(0, batch.indexOf('-----END CERTIFICATE-----') + 26)
      await s.raw.write('client', 'jim', alias, damaged)
      const after = await take(await s.open(), 1)
      expect(s.batches()).toBe(2)
      expect(after[0]).not.toBe(first[0])
    }
  })

  it('a keystore from before the count (unused TCerts only, no tcerts.taken) hands them out from the first', async () => {
    const s = await setup(4)
    await take(await s.open(), 1)
    const text = (await s.raw.read('client', 'jim', 'tcerts.unused'))!
    const pairs = [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END ECDSA PRIVATE KEY-----\n/g)].map(m => m[0])
    expect(pairs).toHaveLength(4)
    const kept = pairs.slice(1).join('')
    const older: RawStore = { ...s.raw, read: async (kind, name, alias) => alias === 'tcerts.taken' ? undefined : alias === 'tcerts.unused' ? kept : await s.raw.read(kind, name, alias) }
    const keystore = new Keystore(cryptoSuite('SHA3', 256), older, { enroll: fail, tcertBatch: fail, enrollmentCertificate: fail }, 4)
    const member = (await keystore.open('client', 'jim'))!
    const certs = await take(member, 3)
    expect(new Set(certs).size).toBe(3)
    await expect(member.nextTCert()).rejects.toThrow(/no TCA here/)
  })
})

async function fail (): Promise<never> { throw new Error('no TCA here') }
