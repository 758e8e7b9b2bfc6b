import { existsSync } from 'node:fs'
import { mkdtemp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { equalBytes } from '../../src/crypto/bytes.ts'
import { finish, Proc, root } from '../helpers/processes.ts'

const vectors = fileURLToPath(new URL('../vectors', import.meta.url))

async function weft (...args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const { code, stdout, stderr } = await finish(Proc.weft(args))
  return { code, stdout, stderr }
}

describe('weft conformance', () => {
  it('passes every vector in test/vectors, one line per case', async () => {
    const { code, stdout } = await weft('conformance', '--vectors', vectors)
    const lines = stdout.trim().split('\n')
    const summary = lines.at(-1)!
    expect(lines.filter(l => l.startsWith('FAIL'))).toEqual([])
    expect(code).toBe(0)
    expect(summary).toMatch(/^\d+ passed, 0 failed, \d+ skipped$/)
    const passed = Number(summary.split(' ')[0])
    expect(lines.filter(l => l.startsWith('PASS'))).toHaveLength(passed)
    for (const kind of ['block-hash', 'messages', 'state-hash']) expect(lines.some(l => l.startsWith(`PASS ${kind}/`))).toBe(true)
  }, 120_000)

  it('ships the vectors as computed by Fabric: test/vectors holds the shared set, byte for byte', async (ctx) => {
    const shared = join(root, '..', 'shared', 'vectors')
    if (!existsSync(shared)) ctx.skip()
    const names = (await readdir(shared)).filter(n => n.endsWith('.json')).sort()
    // test/vectors/security holds Weft's own Go-computed crypto vectors, beside the shared set
    expect((await readdir(vectors)).filter(n => n.endsWith('.json')).sort()).toEqual(names)
    for (const n of names) expect(equalBytes(await readFile(join(vectors, n)), await readFile(join(shared, n))), n).toBe(true)
  })

  it('fails a case whose expected hash is wrong, and says which', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weft-vectors-'))
    const one = { cases: [{ name: 'tampered', block_proto_hex: '', hash_hex: '00'.repeat(64) }] }
    await writeFile(join(dir, 'x.json'), JSON.stringify(one))
    const { code, stdout } = await weft('conformance', '--vectors', dir)
    expect(code).toBe(1)
    expect(stdout).toMatch(/^FAIL block-hash\/tampered: hash 46b9dd2b/m)
    expect(stdout).toMatch(/0 passed, 1 failed, 0 skipped/)
  })

  it('answers malformed input with a one-line error and a non-zero exit, never a stack trace', async () => {
    const missing = await weft('conformance', '--vectors', '/nonexistent/weft')
    expect(missing.code).not.toBe(0)
    expect(missing.stderr.trim().split('\n')).toHaveLength(1)
    expect(missing.stderr).toMatch(/cannot read vectors directory/)

    const dir = await mkdtemp(join(tmpdir(), 'weft-vectors-'))
    await writeFile(join(dir, 'bad.json'), '{ not json')
    await writeFile(join(dir, 'odd.json'), JSON.stringify({ cases: [{ whatever: 1 }] }))
    await mkdir(join(dir, 'sub'))
    const bad = await weft('conformance', '--vectors', dir)
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/^error: bad\.json: not valid JSON/m)
    expect(bad.stderr).toMatch(/^error: odd\.json: unknown vector kind/m)
    for (const out of [missing.stderr, bad.stderr, bad.stdout]) expect(out).not.toMatch(/\n\s+at /)
  })

  it('has --help and --version', async () => {
    const help = await weft('--help')
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/conformance/)
    const version = await weft('--version')
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })
})
