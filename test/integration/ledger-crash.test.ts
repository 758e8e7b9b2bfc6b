import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { equalBytes } from '../../src/crypto/bytes.ts'
import { Ledger, makeGenesis } from '../../src/ledger/ledger.ts'
import { openLevelDB } from '../../node/storage.ts'
import { describeExit, Proc } from '../helpers/processes.ts'

const child = fileURLToPath(new URL('./fixtures/commit-forever.ts', import.meta.url))
const kills = Number(process.env.WEFT_CRASH_KILLS ?? 50)
const dirs: string[] = []
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }) })

/** Starts the committing child, lets it commit for `ms` after it is ready, kills it with SIGKILL; the last height it reported. */
async function runAndKill (dir: string, ms: number): Promise<number> {
  const p = Proc.node(['--import', 'tsx', child, dir])
  await p.waitForOutput('the child to open its ledger', /^ready \d+$/m, { timeoutMs: 60_000 })
  await new Promise(resolve => setTimeout(resolve, ms))
  const exit = await p.signal('SIGKILL')
  if (exit.signal !== 'SIGKILL') throw new Error(`child ended on its own (${describeExit(exit)}): ${p.output}`)
  return Math.max(...[...p.stdout.matchAll(/^(?:ready|committed) (\d+)\n/gm)].map(m => Number(m[1])))
}

describe('ledger crash safety', () => {
  it(`reopens after ${kills} kill -9s mid-commit with nothing lost or torn`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weft-crash-'))
    dirs.push(dir)
    let previousHeight = 0
    for (let i = 0; i < kills; i++) {
      const reported = await runAndKill(dir, 40 + ((i * 37) % 260))
      // Ledger.open itself refuses a state whose hash differs from its block's stateHash.
      const ledger = await Ledger.open(await openLevelDB(dir))
      try {
        expect(ledger.height).toBeGreaterThanOrEqual(reported)
        expect(ledger.height).toBeGreaterThanOrEqual(previousHeight)
        expect(ledger.height).toBeLessThanOrEqual(reported + 1)
        expect(await ledger.verifyChain(ledger.height - 1, 0)).toBe(0)
        const last = (await ledger.getBlockByNumber(ledger.height - 1))!
        expect(equalBytes((await ledger.getTempStateHash()) ?? new Uint8Array(0), last.stateHash)).toBe(true)
        expect(ledger.stateBlockNumber).toBe(ledger.height - 1)
        expect(await ledger.getStateDelta(ledger.height - 1)).toBeDefined()
        previousHeight = ledger.height
      } finally {
        await ledger.close()
      }
    }
    expect(previousHeight).toBeGreaterThan(kills / 2)
  }, 300_000)

  it('says clearly that a database is locked by another process', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weft-lock-'))
    dirs.push(dir)
    const first = await openLevelDB(dir)
    await expect(openLevelDB(dir)).rejects.toThrow(/is locked: another process/)
    await first.close()
  })

  it('says clearly that a database is corrupt', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weft-corrupt-'))
    dirs.push(dir)
    const ledger = await Ledger.open(await openLevelDB(dir))
    await makeGenesis(ledger)
    await ledger.close()
    await writeFile(join(dir, 'CURRENT'), 'garbage-without-newline')
    await expect(openLevelDB(dir)).rejects.toThrow(/is corrupt and cannot be opened/)
  })
})
